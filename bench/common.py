"""Shared bits of the benchmarks: temporary databases, the services, timing, and the figure format."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bot.config import Settings
from bot.container import Container, build_container
from core.clock import Clock
from storage import migrate
from storage.db import Database
from tests import factories

T0 = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("TEST_POSTGRES_URL")


@dataclass(frozen=True)
class Outcome:
    """A benchmark's printed lines, and one line for the summary with its verdict."""

    lines: list[str]
    summary: str
    ok: bool


def services(db: Database, clock: Clock, **settings: Any) -> Container:
    """The services as the bot process wires them (``bot.container``), at its default settings."""
    return build_container(Settings(bot_token="1:bench", consent_policy_version=factories.CONSENT, **settings),
                           db, clock)


@asynccontextmanager
async def database(postgres_url: str | None = None) -> AsyncIterator[Database]:
    """A freshly migrated database: a SQLite file in a temp folder, or a schema of its own on the
    PostgreSQL server at ``postgres_url``."""
    if postgres_url is None:
        with tempfile.TemporaryDirectory() as folder:
            db = Database(f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}")
            await migrate.upgrade(db.engine)
            try:
                yield db
            finally:
                await db.dispose()
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = Database(postgres_url)
    async with admin.engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    db = Database(postgres_url, connect_args={"server_settings": {"search_path": schema}})
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
