"""Shared bits of the benchmarks: temporary databases, timing, and the figure format."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from bot.config import Settings
from storage import migrate
from storage.db import Database, pool_size_for

T0 = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL") or os.environ.get("BENCH_POSTGRES_URL")


# The pool the bot process opens at its default settings (bot.app).
POOL_SIZE = pool_size_for(Settings.model_fields["concurrent_updates"].default)


@asynccontextmanager
async def database(backend: str = "sqlite") -> AsyncIterator[Database]:
    """A freshly migrated database: a SQLite file in a temp folder, or a PostgreSQL schema of its own."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            db = Database(f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}", pool_size=POOL_SIZE)
            await migrate.upgrade(db.engine)
            try:
                yield db
            finally:
                await db.dispose()
        return
    assert POSTGRES_URL, "set TEST_POSTGRES_URL for the PostgreSQL run"
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = Database(POSTGRES_URL)
    async with admin.engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    db = Database(POSTGRES_URL, connect_args={"server_settings": {"search_path": schema}},
                  pool_size=POOL_SIZE)
    await migrate.upgrade(db.engine)
    try:
        yield db
    finally:
        await db.dispose()
        async with admin.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


async def timed(call: Callable[[], Awaitable[object]], repeat: int) -> float:
    """Median seconds of one call over ``repeat`` calls (after one warm-up)."""
    await call()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def figure(name: str, value: float, unit: str, baseline_name: str, baseline: float) -> str:
    ratio = value / baseline if baseline else float("inf")
    return f"{name}: {value:,.3f} {unit} | baseline ({baseline_name}): {baseline:,.3f} {unit} | ratio {ratio:.2f}"
