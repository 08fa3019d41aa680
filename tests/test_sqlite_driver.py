"""The SQLite adapter: a statement is one trip to aiosqlite's thread, and transactions mean what they did."""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import aiosqlite.core
import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.models import AuditEntry, TelegramUser
from storage.sqlite_driver import RIDES_WITH_COMMIT
from tests import factories

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[collections.Counter[str]]:
    """Counts the calls queued to aiosqlite's thread, by the function queued."""
    counted: collections.Counter[str] = collections.Counter()
    queue = aiosqlite.core.Connection._execute

    async def counting(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        counted[fn.__name__] += 1
        return await queue(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.core.Connection, "_execute", counting)
    yield counted


async def _pool_warmed(db: Database, trips: collections.Counter[str]) -> None:
    """Open the pool's connection first: opening one takes trips of its own (connect, PRAGMAs)."""
    async with db.read() as uow:
        await uow.session.get(TelegramUser, 1)
    trips.clear()


async def test_a_read_is_one_trip(sqlite_db: Database, trips: collections.Counter[str]) -> None:
    await factories.account(sqlite_db, 1, T0)
    await _pool_warmed(sqlite_db, trips)
    async with sqlite_db.read() as uow:
        user, account, people = await uow.login.user_with_card_file(1, factories.CONSENT)
    assert user is not None and account is not None and len(people) == 1
    assert sum(trips.values()) == 1, trips  # no cursor, fetch, close or rollback trips of their own


async def test_a_write_is_a_trip_a_statement_and_one_for_the_commit(
        sqlite_db: Database, trips: collections.Counter[str]) -> None:
    await _pool_warmed(sqlite_db, trips)
    async with sqlite_db.write() as uow:
        await uow.session.execute(insert(AuditEntry), [{"at": T0, "action": "a"}])
        await uow.session.execute(insert(AuditEntry), [{"at": T0, "action": "b"}, {"at": T0, "action": "c"}])
        await uow.commit()
    assert trips == {"_statement": 2, "_end": 1}  # BEGIN IMMEDIATE went with the first statement
    async with sqlite_db.read() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(AuditEntry)) == 3


async def test_the_begin_that_travels_with_a_statement_is_immediate(sqlite_db: Database) -> None:
    """R7 rests on it: while one write transaction is open, no other connection (another process,
    say) may start writing."""
    other = sqlite3.connect(sqlite_db.engine.url.database or "", timeout=0.05, isolation_level=None)
    try:
        async with sqlite_db.write() as uow:
            await uow.session.execute(select(1))  # reads nothing, but BEGIN IMMEDIATE has taken the lock
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # and the rollback at the end let go of it
        other.execute("ROLLBACK")
    finally:
        other.close()


async def test_a_rollback_undoes_and_an_error_leaves_the_connection_usable(sqlite_db: Database) -> None:
    identity, _ = await factories.account(sqlite_db, 1, T0)
    async with sqlite_db.write() as uow:
        await uow.session.execute(insert(AuditEntry), [{"at": T0, "action": "undone"}])
        # no commit: the unit of work rolls back
    with pytest.raises(IntegrityError):
        async with sqlite_db.write() as uow:
            await uow.session.execute(insert(AuditEntry), [{"at": T0, "action": "undone too"}])
            await uow.session.execute(insert(TelegramUser).values(id=identity.telegram_id, chat_id=1, created_at=T0))
    async with sqlite_db.write() as uow:
        await uow.session.execute(insert(AuditEntry), [{"at": T0, "action": "kept"}])
        await uow.commit()
    async with sqlite_db.read() as uow:
        actions = list(await uow.session.scalars(select(AuditEntry.action)))
    assert "undone" not in actions and "undone too" not in actions and "kept" in actions


async def test_a_transaction_with_no_statement_costs_no_trip(
        sqlite_db: Database, trips: collections.Counter[str]) -> None:
    await _pool_warmed(sqlite_db, trips)
    async with sqlite_db.write() as uow:
        await uow.session.connection()  # begun, but nothing sent
        await uow.commit()
    assert sum(trips.values()) == 0


async def test_a_streamed_result_in_a_write_transaction_is_inside_it(sqlite_db: Database) -> None:
    """A server-side cursor is aiosqlite's own: the BEGIN waiting for the first statement goes first."""
    async with sqlite_db.write() as uow:
        rows = await uow.session.stream_scalars(select(func.count()).select_from(AuditEntry))
        assert [n async for n in rows] == [0]
        connection = await uow.session.connection()
        assert (await connection.get_raw_connection()).driver_connection.in_transaction  # type: ignore[union-attr]


async def test_audit_rows_travel_with_the_commit(sqlite_db: Database, trips: collections.Counter[str]) -> None:
    """A write and its audit row: a trip for the write, one for the audit row and the COMMIT together."""
    await _pool_warmed(sqlite_db, trips)
    async with sqlite_db.write() as uow:
        await uow.session.execute(insert(TelegramUser).values(id=5, chat_id=5, created_at=T0))
        uow.audit.record(T0, "user.added", actor=5)
        uow.audit.record(T0, "user.greeted", actor=5)
        await uow.commit()
    assert trips == {"_statement": 1, "_commit_with": 1}
    async with sqlite_db.read() as uow:
        assert [e.action for e in reversed(await uow.audit.recent())] == ["user.added", "user.greeted"]


async def test_a_held_write_goes_first_with_the_next_statement(sqlite_db: Database) -> None:
    """Held for the commit, an INSERT is still done before any later statement of its transaction."""
    async with sqlite_db.write() as uow:
        await uow.session.execute(insert(AuditEntry), [{"at": T0, "action": "held"}],
                                  execution_options={RIDES_WITH_COMMIT: True})
        assert await uow.session.scalar(select(func.count()).select_from(AuditEntry)) == 1
        await uow.commit()


async def test_a_failing_held_write_fails_the_commit_and_keeps_nothing(
        sqlite_db: Database, trips: collections.Counter[str]) -> None:
    await _pool_warmed(sqlite_db, trips)
    with pytest.raises(IntegrityError):
        async with sqlite_db.write() as uow:
            await uow.session.execute(insert(TelegramUser).values(id=6, chat_id=6, created_at=T0))
            uow.audit.record(T0, None, actor=6)  # type: ignore[arg-type]  # action is NOT NULL
            await uow.commit()
    assert trips["_commit_with"] == 1
    async with sqlite_db.write() as uow:  # the connection works, and the user's row is not there
        assert await uow.session.get(TelegramUser, 6) is None
        uow.audit.record(T0, "after")
        await uow.commit()
    async with sqlite_db.read() as uow:
        assert [e.action for e in await uow.audit.recent()] == ["after"]
