"""The SQLite adapter: statements run on the event loop's thread, anything that waits runs on
aiosqlite's, and transactions mean what they did."""

from __future__ import annotations

import asyncio
import collections
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite.core
import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError

from storage import sqlite_driver
from storage.db import Database
from storage.direct import give_back
from storage.models import AuditEntry, TelegramUser
from storage.repositories.login import who_is
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


async def _audited_after(db: Database, action: str) -> list[str]:
    """Write one audit row ``action`` in a transaction of its own; the audit log's actions after it."""
    async with db.write() as uow:
        uow.audit.record(T0, action)
        await uow.commit()
    async with db.read() as uow:
        return [e.action for e in await uow.audit.recent()]


def _assert_the_writer_is_free(db: Database) -> None:
    """Another process can take SQLite's writer at once: nothing of ours holds it."""
    probe = sqlite3.connect(db.engine.url.database or "", timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
    finally:
        probe.close()


async def _pool_warmed(db: Database, trips: collections.Counter[str]) -> None:
    """Open the pool's connection first: opening one is aiosqlite's work, on its thread."""
    async with db.read() as uow:
        await uow.session.get(TelegramUser, 1)
    trips.clear()


class _Ticker:
    """Counts turns of the event loop: it advances only while something else gives up the loop."""

    def __init__(self) -> None:
        self.turns = 0

    async def run(self) -> None:
        while True:
            self.turns += 1
            await asyncio.sleep(0)


@asynccontextmanager
async def _ticking() -> AsyncIterator[_Ticker]:
    ticker = _Ticker()
    task = asyncio.create_task(ticker.run())
    await asyncio.sleep(0)
    try:
        yield ticker
    finally:
        task.cancel()


@asynccontextmanager
async def _locked_by_another_process(db: Database) -> AsyncIterator[sqlite3.Connection]:
    """Another connection, as another process would have, holding SQLite's one writer."""
    other = sqlite3.connect(db.engine.url.database or "", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield other
    finally:
        if other.in_transaction:
            other.execute("ROLLBACK")
        other.close()


async def test_statements_never_go_to_the_driver_thread(
        sqlite_db: Database, trips: collections.Counter[str]) -> None:
    await factories.account(sqlite_db, 1, T0)
    await _pool_warmed(sqlite_db, trips)
    found = await who_is(sqlite_db, 1, factories.CONSENT)  # storage.direct's read, on a pooled connection
    assert found is not None and found.account_id is not None and len(found.people) == 1
    async with sqlite_db.write() as uow:
        await uow.session.execute(insert(AuditEntry), [{"at": T0, "action": "a"}])
        await uow.session.execute(insert(AuditEntry), [{"at": T0, "action": "b"}, {"at": T0, "action": "c"}])
        await uow.commit()
    assert trips == {}
    async with sqlite_db.read() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(AuditEntry)) == 3


async def test_a_write_transaction_holds_the_writer_for_no_turn_of_the_loop(sqlite_db: Database) -> None:
    """SQLite has one writer: while a transaction holds it, other updates may run but no other
    booking may write. The transaction runs start to end without giving up the loop, and the next
    writer goes on at once after it (R7's lock, held briefly)."""
    await _pool_warmed(sqlite_db, collections.Counter())
    seen: dict[str, int] = {}
    async with _ticking() as ticker:
        async def first() -> None:
            async with sqlite_db.write() as uow:
                seen["first began"] = ticker.turns
                await uow.session.execute(insert(TelegramUser).values(id=5, chat_id=5, created_at=T0))
                assert await uow.session.get(TelegramUser, 5) is not None
                uow.audit.record(T0, "user.added", actor=5)
                await uow.commit()
                seen["first ended"] = ticker.turns

        async def second() -> None:
            async with sqlite_db.write() as uow:
                seen["second began"] = ticker.turns
                uow.audit.record(T0, "second")
                await uow.commit()

        await asyncio.gather(first(), second())
    assert seen["first ended"] == seen["first began"]
    assert seen["second began"] - seen["first ended"] <= 1


async def test_the_begin_that_goes_with_a_statement_is_immediate(sqlite_db: Database) -> None:
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


async def test_a_transaction_with_no_statement_takes_no_lock(sqlite_db: Database) -> None:
    other = sqlite3.connect(sqlite_db.engine.url.database or "", timeout=0, isolation_level=None)
    try:
        async with sqlite_db.write() as uow:
            await uow.session.connection()  # begun, but nothing sent
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            await uow.commit()
    finally:
        other.close()


async def test_a_lock_another_process_holds_is_waited_for_off_the_loop(
        sqlite_db: Database, trips: collections.Counter[str]) -> None:
    """Waiting on the loop would stop every other patient's update for as long as the other process
    writes (up to the busy timeout): the wait is on aiosqlite's thread, and then the write is done."""
    await _pool_warmed(sqlite_db, trips)
    async with _locked_by_another_process(sqlite_db) as other, _ticking() as ticker:
        async def write() -> None:
            async with sqlite_db.write() as uow:
                uow.audit.record(T0, "after the wait")
                await uow.commit()

        writing = asyncio.create_task(write())
        await asyncio.sleep(0.2)
        assert not writing.done()
        assert ticker.turns > 100  # the loop went on meanwhile
        async with sqlite_db.read() as uow:  # and so do reads: WAL readers do not wait for writers
            assert await uow.session.scalar(select(func.count()).select_from(AuditEntry)) == 0
        other.execute("COMMIT")
        await asyncio.wait_for(writing, 5)
    assert trips["_waiting_for_locks"] == 1
    async with sqlite_db.read() as uow:
        assert [e.action for e in await uow.audit.recent()] == ["after the wait"]


async def test_a_lock_held_past_the_timeout_is_an_error_and_the_connection_still_works(
        sqlite_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_driver, "LOCK_TIMEOUT_MS", 100)
    async with _locked_by_another_process(sqlite_db):
        with pytest.raises(OperationalError, match="locked"):
            async with sqlite_db.write() as uow:
                uow.audit.record(T0, "never")
                await uow.commit()
    assert await _audited_after(sqlite_db, "later") == ["later"]


async def test_rows_written_one_by_one_outside_a_transaction_are_not_written_twice(
        sqlite_db: Database, trips: collections.Counter[str]) -> None:
    """Outside a transaction each row of an executemany commits on its own: after a «busy» midway some
    would stay, so the statement is not done again on the thread: the error is the caller's."""
    await _pool_warmed(sqlite_db, trips)
    async with _locked_by_another_process(sqlite_db), sqlite_db.engine.connect() as connection:
        autocommit = await connection.execution_options(sqlite_begin="AUTOCOMMIT")
        with pytest.raises(OperationalError, match="locked"):
            await autocommit.execute(insert(AuditEntry), [{"at": T0, "action": "a"}, {"at": T0, "action": "b"}])
    assert trips["_waiting_for_locks"] == 0


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


async def test_a_failing_audit_row_fails_the_commit_and_keeps_nothing(sqlite_db: Database) -> None:
    with pytest.raises(IntegrityError):
        async with sqlite_db.write() as uow:
            await uow.session.execute(insert(TelegramUser).values(id=6, chat_id=6, created_at=T0))
            uow.audit.record(T0, None, actor=6)  # type: ignore[arg-type]  # action is NOT NULL
            await uow.commit()
    async with sqlite_db.read() as uow:
        assert await uow.session.get(TelegramUser, 6) is None
        assert await uow.audit.recent() == []


async def test_a_streamed_result_in_a_write_transaction_is_inside_it(sqlite_db: Database) -> None:
    """A server-side cursor is aiosqlite's own: the BEGIN waiting for the first statement goes first."""
    async with sqlite_db.write() as uow:
        rows = await uow.session.stream_scalars(select(func.count()).select_from(AuditEntry))
        assert [n async for n in rows] == [0]
        connection = await uow.session.connection()
        assert (await connection.get_raw_connection()).driver_connection.in_transaction  # type: ignore[union-attr]


@pytest.mark.parametrize("released_first", [False, True])
@pytest.mark.parametrize("through", ["session", "direct", "own transaction"])
async def test_a_write_cancelled_while_it_waits_for_a_lock_leaves_nothing_behind(
        sqlite_db: Database, through: str, released_first: bool) -> None:
    """The statement waits on aiosqlite's thread; cancelled there, it must not go on to take the
    writer on a connection the pool hands out again: it stops within a slice of the wait and what it
    began is undone before the cancellation goes on."""
    await _pool_warmed(sqlite_db, collections.Counter())

    async def write() -> None:
        if through == "own transaction":  # Database.direct_write: no session
            async with sqlite_db.direct_write() as direct:
                direct.audit.record(T0, "cancelled")
                await direct.audit.write_pending()
                await direct.commit()
            return
        async with sqlite_db.write() as uow:
            if through == "session":
                await uow.session.execute(insert(AuditEntry), [{"at": T0, "action": "cancelled"}])
            else:
                uow.audit.record(T0, "cancelled")
                await uow.audit.write_pending()
            await uow.commit()

    async with _locked_by_another_process(sqlite_db) as other:
        writing = asyncio.create_task(write())
        await asyncio.sleep(0.2)
        if released_first:
            other.execute("ROLLBACK")  # the thread's next try takes the lock and writes: undone all the same
        writing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(writing, 1)
        if other.in_transaction:
            other.execute("ROLLBACK")
    await asyncio.sleep(0.3)  # were the statement still running on the thread, it would now take the lock
    _assert_the_writer_is_free(sqlite_db)
    assert await _audited_after(sqlite_db, "after") == ["after"]


async def test_a_connection_the_pool_does_not_keep_is_closed_for_good(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Connections taken without a session (who-is-this, the booking) go back through ``give_back``:
    one beyond the pool's size is closed by the pool, and aiosqlite's close must be awaited, or its
    thread and the file stay open behind a logged error."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'pool.sqlite3'}", pool_size=1, max_overflow=1)
    try:
        kept, beyond = await db.engine.raw_connection(), await db.engine.raw_connection()
        threads = [raw.dbapi_connection._connection._thread for raw in (kept, beyond)]  # type: ignore[union-attr]
        with caplog.at_level(logging.ERROR, logger="sqlalchemy.pool"):
            await give_back(db.engine, kept)
            await give_back(db.engine, beyond)
        assert [r.getMessage() for r in caplog.records if r.name.startswith("sqlalchemy")] == []
        threads[1].join(timeout=5)
        assert [t.is_alive() for t in threads] == [True, False]
        assert db.engine.pool.checkedin() == 1  # type: ignore[attr-defined]
    finally:
        await db.dispose()


async def test_a_connection_whose_rollback_failed_is_not_handed_out_again(
        sqlite_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """A booking's transaction that could not be rolled back (a disk error, say) may still hold SQLite's
    writer: its connection is closed, not put back in the pool, and the next booking gets the writer."""
    rollback = sqlite_driver.InlineConnection.end_on_loop

    async def failing_rollback(self: sqlite_driver.InlineConnection, commit: bool) -> None:
        if not commit:
            raise sqlite3.OperationalError("disk I/O error")
        await rollback(self, commit)

    monkeypatch.setattr(sqlite_driver.InlineConnection, "end_on_loop", failing_rollback)
    with pytest.raises(OperationalError, match="disk I/O error"):
        async with sqlite_db.direct_write() as direct:
            direct.audit.record(T0, "never kept")
            await direct.audit.write_pending()  # BEGIN IMMEDIATE: the writer is taken
            raise RuntimeError("the handler failed before the commit")
    monkeypatch.setattr(sqlite_driver.InlineConnection, "end_on_loop", rollback)
    _assert_the_writer_is_free(sqlite_db)  # the connection was closed, and SQLite undid its work
    async with sqlite_db.direct_write() as direct:
        direct.audit.record(T0, "kept")
        await direct.commit()
    async with sqlite_db.read() as uow:
        assert [e.action for e in await uow.audit.recent()] == ["kept"]
