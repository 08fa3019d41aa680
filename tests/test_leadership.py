"""One leader at a time on one database; another takes over within seconds when it goes."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import text

from bot.infra.leadership import AdvisoryLock, Leadership
from storage.db import Database
from tests.conftest import same_database

RETRY = 0.1


async def until(condition: object, timeout: float = 5.0) -> float:
    """Seconds until ``condition()`` held."""
    started = time.monotonic()
    while not condition():  # type: ignore[operator]
        if time.monotonic() - started > timeout:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def test_exactly_one_leads_and_the_other_takes_over(db: Database) -> None:
    other_db = await same_database(db)
    led: list[str] = []

    async def lead(name: str) -> None:
        led.append(name)

    first = Leadership(db.engine, retry_seconds=RETRY, on_lead=lambda: lead("first"))
    second = Leadership(other_db.engine, retry_seconds=RETRY, on_lead=lambda: lead("second"))
    try:
        first.start()
        await until(lambda: first.is_leader)
        second.start()
        await asyncio.sleep(RETRY * 5)  # several tries of the second
        assert (first.is_leader, second.is_leader) == (True, False)

        await first.stop()
        await until(lambda: second.is_leader, timeout=2.0)
        assert not first.is_leader
        assert led == ["first", "second"]
    finally:
        await first.stop()
        await second.stop()
        await other_db.dispose()


async def test_a_leader_whose_connection_dies_stops_leading(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("SQLite's lock is the process's file lock: the kernel frees it when the process dies")
    other_db = await same_database(db)
    stopped: list[str] = []

    async def follow() -> None:
        stopped.append("first")

    first = Leadership(db.engine, retry_seconds=RETRY, on_follow=follow)
    second = Leadership(other_db.engine, retry_seconds=RETRY)
    try:
        first.start()
        await until(lambda: first.is_leader)
        second.start()
        await asyncio.sleep(RETRY * 3)
        assert isinstance(first.lock, AdvisoryLock) and first.lock.backend_pid
        async with other_db.engine.connect() as admin:
            await admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first.lock.backend_pid})
        await until(lambda: second.is_leader and not first.is_leader, timeout=2.0)
        assert stopped == ["first"]
    finally:
        await first.stop()
        await second.stop()
        await other_db.dispose()
