"""Shared fixtures: a real database (a SQLite file, and PostgreSQL when TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from core.clock import FixedClock
from storage import migrate
from storage.db import Database

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgres"]

# A Monday morning, so the demo's weekday schedules are all ahead.
T0 = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


async def open_database(backend: str, tmp_path: Path) -> tuple[Database, str | None]:
    """A freshly migrated database; for PostgreSQL a schema of its own, dropped afterwards."""
    if backend == "sqlite":
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}")
        await migrate.upgrade(db.engine)
        return db, None
    if not POSTGRES_URL:
        pytest.skip("TEST_POSTGRES_URL is not set")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = Database(POSTGRES_URL)
    async with admin.engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    await admin.dispose()
    db = Database(POSTGRES_URL, connect_args={"server_settings": {"search_path": schema}})
    await migrate.upgrade(db.engine)
    return db, schema


async def close_database(db: Database, schema: str | None) -> None:
    await db.dispose()
    if schema is not None and POSTGRES_URL:
        admin = Database(POSTGRES_URL)
        async with admin.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


@pytest.fixture(params=BACKENDS)
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    database, schema = await open_database(request.param, tmp_path)
    try:
        yield database
    finally:
        await close_database(database, schema)


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    database, _ = await open_database("sqlite", tmp_path)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


async def same_database(db: Database) -> Database:
    """A second ``Database`` on the same SQLite file or PostgreSQL schema: what another process
    (a second bot instance, ``python -m bot import-fhir``) holds."""
    if db.is_sqlite:
        return Database(db.url)
    async with db.engine.connect() as connection:
        schema = await connection.scalar(text("SELECT current_schema()"))
    return Database(db.url, connect_args={"server_settings": {"search_path": str(schema)}})
