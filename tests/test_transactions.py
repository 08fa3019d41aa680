"""What a unit of work guarantees, on which R7 and the audit log rest: SQLite's writers begin with
BEGIN IMMEDIATE and wait off the event loop for another process's writer; a failed or abandoned
write leaves nothing behind, and its error names no personal data."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError, StatementError

import storage.db
from core.enums import AppointmentSource, AppointmentStatus
from storage import migrate
from storage.db import Database
from storage.models import Appointment, AuditEntry, TelegramUser
from tests import factories

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def _audited_after(db: Database, action: str) -> list[str]:
    """Write one audit row ``action`` in a transaction of its own; the audit log's actions after it."""
    async with db.write() as uow:
        uow.audit.record(T0, action)
        await uow.commit()
    async with db.read() as uow:
        return [e.action for e in await uow.audit.recent()]


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


def _assert_the_writer_is_free(db: Database) -> None:
    """Another process can take SQLite's writer at once: nothing of ours holds it."""
    probe = sqlite3.connect(db.engine.url.database or "", timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
    finally:
        probe.close()


async def test_a_write_begins_immediate(sqlite_db: Database) -> None:
    """R7 rests on it: while one write transaction is open, no other connection may start writing."""
    other = sqlite3.connect(sqlite_db.engine.url.database or "", timeout=0.05, isolation_level=None)
    try:
        async with sqlite_db.write() as uow:
            await uow.session.execute(select(1))  # reads nothing, but BEGIN IMMEDIATE has taken the lock
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # and the end of the unit of work let go of it
        other.execute("ROLLBACK")
    finally:
        other.close()


async def test_a_read_does_not_wait_for_a_writer(sqlite_db: Database) -> None:
    """WAL: a patient's screen is read while another process writes."""
    async with _locked_by_another_process(sqlite_db), sqlite_db.read() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


async def test_a_lock_another_process_holds_is_waited_for_while_the_loop_goes_on(sqlite_db: Database) -> None:
    turns = 0

    async def tick() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    async def write() -> None:
        async with sqlite_db.write() as uow:
            uow.audit.record(T0, "after the wait")
            await uow.commit()

    ticker = asyncio.create_task(tick())
    try:
        async with _locked_by_another_process(sqlite_db) as other:
            writing = asyncio.create_task(write())
            await asyncio.sleep(0.2)
            assert not writing.done()
            assert turns > 100  # other updates were served meanwhile
            other.execute("COMMIT")
            await asyncio.wait_for(writing, 5)
    finally:
        ticker.cancel()
    async with sqlite_db.read() as uow:
        assert [e.action for e in await uow.audit.recent()] == ["after the wait"]


async def test_a_lock_held_past_the_busy_timeout_is_an_error_and_the_next_write_works(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage.db, "BUSY_TIMEOUT_MS", 100)
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'busy.sqlite3'}")
    try:
        await migrate.upgrade(db.engine)
        async with _locked_by_another_process(db):
            with pytest.raises(OperationalError, match="locked"):
                async with db.write() as uow:
                    uow.audit.record(T0, "never")
                    await uow.commit()
        assert await _audited_after(db, "later") == ["later"]
    finally:
        await db.dispose()


@pytest.mark.parametrize("released_first", [False, True])
async def test_a_write_cancelled_while_it_waits_for_a_lock_leaves_nothing_behind(
        sqlite_db: Database, released_first: bool) -> None:
    """An update cancelled (at shutdown) while its write waits for another process's writer must not go
    on to hold the writer, nor write what it began. Its end waits for the wait to end: the other
    writer's commit, or the busy timeout."""

    async def write() -> None:
        async with sqlite_db.write() as uow:
            await uow.session.execute(insert(AuditEntry), [{"at": T0, "action": "cancelled"}])
            await uow.commit()

    async with _locked_by_another_process(sqlite_db) as other:
        writing = asyncio.create_task(write())
        await asyncio.sleep(0.2)
        if released_first:
            other.execute("ROLLBACK")  # the waiting BEGIN may take the lock now: undone all the same
        writing.cancel()
        if other.in_transaction:
            other.execute("ROLLBACK")
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(writing, 5)
    _assert_the_writer_is_free(sqlite_db)
    assert await _audited_after(sqlite_db, "after") == ["after"]


async def test_a_rollback_undoes_and_an_error_leaves_the_database_usable(db: Database) -> None:
    identity, _ = await factories.account(db, 1, T0)
    async with db.write() as uow:
        uow.audit.record(T0, "undone")
        await uow.flush()
        # no commit: the unit of work rolls back
    with pytest.raises(IntegrityError):
        async with db.write() as uow:
            uow.audit.record(T0, "undone too")
            await uow.session.execute(insert(TelegramUser).values(id=identity.telegram_id, chat_id=1, created_at=T0))
    assert await _audited_after(db, "kept") == ["kept"]


async def test_a_failing_audit_row_fails_the_commit_and_keeps_nothing(db: Database) -> None:
    with pytest.raises(IntegrityError):
        async with db.write() as uow:
            await uow.session.execute(insert(TelegramUser).values(id=6, chat_id=6, created_at=T0))
            uow.audit.record(T0, None, actor=6)  # type: ignore[arg-type]  # action is NOT NULL
            await uow.commit()
    async with db.read() as uow:
        assert await uow.session.get(TelegramUser, 6) is None
        assert await uow.audit.recent() == []


async def test_an_error_names_no_personal_data_and_undoes_the_transaction(db: Database) -> None:
    """Errors reach the log: the statement's parameters (names, SNILS, policies) stay out of it."""
    identity, (patient,) = await factories.account(db, 1, T0, snils="11223344595")
    with pytest.raises(IntegrityError) as raised:
        async with db.write() as uow:
            uow.audit.record(T0, "kept only if the transaction commits")
            uow.session.add(Appointment(  # no such slot: the foreign key refuses it
                slot_id=999_999, doctor_id=999_999, starts_at=T0 + timedelta(days=1), patient_id=patient.id,
                made_by_account_id=identity.account_id, source=AppointmentSource.PORTAL,
                status=AppointmentStatus.ACTIVE, created_at=T0, patient_snils="11223344595"))
            await uow.commit()
    assert "11223344595" not in str(raised.value)
    async with db.read() as uow:
        assert await uow.audit.recent() == []
        assert list(await uow.session.scalars(select(Appointment.id))) == []


async def test_a_naive_time_is_refused(sqlite_db: Database) -> None:
    """Times are stored as UTC: one without a zone is a programming error, not a guess."""
    with pytest.raises(StatementError, match="naive datetime"):
        async with sqlite_db.write() as uow:
            uow.audit.record(datetime(2026, 12, 1, 9, 0), "a naive time")
            await uow.commit()
