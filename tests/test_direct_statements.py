"""The booking's statements run straight on SQLite's connection (``storage.direct``): they must write
and read exactly what SQLAlchemy's own execution would, inside the transaction they belong to (R7): a
unit of work's, or the booking's own with no session (``Database.direct_write``)."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from sqlalchemy import Table, insert, select
from sqlalchemy.exc import IntegrityError, StatementError

import storage.db
from core.enums import AppointmentSource, AppointmentStatus, ModerationStatus, SlotStatus
from core.people import portal_appointment, portal_appointment_values
from storage.changes import SlotChange
from storage.db import Database
from storage.direct import give_back
from storage.models import Appointment, AuditEntry, Slot
from storage.repositories.login import who_is
from storage.repositories.schedule import _APPOINTMENT_COLUMNS
from storage.snapshots import PATIENT_COLUMNS, Person
from tests import factories

T0 = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
START = datetime(2026, 12, 3, 7, 0, 0, tzinfo=UTC)  # whole seconds: SQLite's text keeps ".000000" all the same


async def _booked(db: Database) -> tuple[int, Any, Any, Slot]:
    identity, (patient,) = await factories.account(db, 1, T0, snils="11223344595")
    _, (doctor,) = await factories.clinic(db)
    slot, twin = await factories.slots(db, doctor, START, 2)
    async with db.direct_write() as uow:
        change = await uow.book_free(slot.id, patient.id, identity.require_account(), T0, T0 + timedelta(days=14))
        assert change is not None
        appointment_id = await uow.insert_appointment(
            portal_appointment_values(patient, identity.require_account(), change.slot_id, change.doctor_id,
                                      change.starts_at, T0))
        uow.audit.record(T0, "appointment.booked", actor=1, details={"слот": 1, "when": "утро"})
        await uow.commit()
    return appointment_id, change, patient, twin


async def test_what_a_booking_returns_is_what_sqlalchemy_returns(db: Database) -> None:
    appointment_id, change, _, _ = await _booked(db)
    async with db.read() as uow:
        slot = await uow.slots.get(change.slot_id)
        appointment = await uow.appointments.get(appointment_id)
    assert slot is not None and appointment is not None
    assert (change.slot_id, change.doctor_id, change.starts_at, change.status) == (
        slot.id, slot.doctor_id, slot.starts_at, SlotStatus.BOOKED)
    assert change.starts_at == START and change.starts_at.tzinfo is UTC
    assert slot.status == SlotStatus.BOOKED
    assert (appointment.starts_at, appointment.created_at, appointment.status, appointment.source) == (
        START, T0, AppointmentStatus.ACTIVE, AppointmentSource.PORTAL)


async def test_the_rows_it_writes_are_byte_for_byte_sqlalchemys(sqlite_db: Database) -> None:
    """The same values written once by the direct INSERTs and once by SQLAlchemy's own execution are
    stored alike: the datetimes' text (their range queries compare it), the enums, the JSON."""
    appointment_id, _, patient, twin = await _booked(sqlite_db)
    async with sqlite_db.write() as uow:
        theirs = portal_appointment(patient, patient.account_id, twin.id, twin.doctor_id, START, T0)
        values = {name: getattr(theirs, name) for name in _APPOINTMENT_COLUMNS}
        twin_id = (await uow.session.execute(
            insert(cast(Table, Appointment.__table__)).returning(Appointment.id), values)).scalar_one()
        await uow.session.execute(insert(cast(Table, AuditEntry.__table__)), {
            "at": T0, "action": "appointment.booked", "actor_telegram_id": 1, "account_id": None, "subject": None,
            "details": {"слот": 1, "when": "утро"}})
        await uow.commit()
    raw = sqlite3.connect(sqlite_db.engine.url.database or "")
    try:
        columns = ", ".join(name for name in _APPOINTMENT_COLUMNS if name != "slot_id")
        ours, their = (raw.execute(f"SELECT {columns} FROM appointments WHERE id = ?", (i,)).fetchone()
                       for i in (appointment_id, twin_id))
        assert ours == their
        assert "2026-12-03 07:00:00.000000" in ours
        audit = raw.execute("SELECT at, action, details FROM audit_log ORDER BY id").fetchall()
        assert audit[0] == audit[1]
    finally:
        raw.close()


async def test_the_first_direct_statement_takes_the_writer(sqlite_db: Database) -> None:
    """R7: a booking's UPDATE is its transaction's first statement; its BEGIN IMMEDIATE goes with it."""
    identity, (patient,) = await factories.account(sqlite_db, 1, T0)
    _, (doctor,) = await factories.clinic(sqlite_db)
    (slot,) = await factories.slots(sqlite_db, doctor, START, 1)
    other = sqlite3.connect(sqlite_db.engine.url.database or "", timeout=0.05, isolation_level=None)
    try:
        async with sqlite_db.direct_write() as uow:
            other.execute("BEGIN IMMEDIATE")  # nothing sent yet: the writer is free
            other.execute("ROLLBACK")
            assert await uow.book_free(slot.id, patient.id, identity.require_account(), T0,
                                       T0 + timedelta(days=14)) is not None
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            # no commit: rolled back, the slot is free again
        assert other.execute("SELECT status FROM slots WHERE id = ?", (slot.id,)).fetchone() == ("free",)
        other.execute("BEGIN IMMEDIATE")  # and the writer free: the connection went back with no transaction
        other.execute("ROLLBACK")
    finally:
        other.close()


async def test_the_views_hear_of_a_booking_once_it_is_committed_only(db: Database) -> None:
    """The in-memory views of free time (R7: the loser is shown fresh times) hear of the slots a
    booking took after its commit, and not at all of a booking that did not commit."""
    heard: list[list[SlotChange] | None] = []
    db.listen_slots(heard.append)
    identity, (patient,) = await factories.account(db, 1, T0)
    _, (doctor,) = await factories.clinic(db)
    kept, dropped = await factories.slots(db, doctor, START, 2)
    heard.clear()
    account_id = identity.require_account()
    async with db.direct_write() as uow:
        change = await uow.book_free(kept.id, patient.id, account_id, T0, T0 + timedelta(days=14))
        assert heard == []
        await uow.commit()
    assert heard == [[change]] and change is not None and change.status == SlotStatus.BOOKED
    with pytest.raises(RuntimeError):
        async with db.direct_write() as uow:
            assert await uow.book_free(dropped.id, patient.id, account_id, T0, T0 + timedelta(days=14)) is not None
            raise RuntimeError("the handler failed before the commit")
    assert heard == [[change]]
    async with db.read() as uow:
        assert (await uow.slots.get(dropped.id)).status == SlotStatus.FREE  # type: ignore[union-attr]


async def test_the_views_hear_of_a_committed_booking_even_if_giving_the_connection_back_is_cut_short(
        sqlite_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """Closing a connection beyond the pool's size awaits aiosqlite after the commit: cancelled there,
    the booking is committed all the same, and the views must not keep showing its time as free."""
    heard: list[list[SlotChange] | None] = []
    sqlite_db.listen_slots(heard.append)
    identity, (patient,) = await factories.account(sqlite_db, 1, T0)
    _, (doctor,) = await factories.clinic(sqlite_db)
    (slot,) = await factories.slots(sqlite_db, doctor, START, 1)
    heard.clear()

    async def cut_short(*args: Any) -> None:
        await give_back(*args)
        raise asyncio.CancelledError

    monkeypatch.setattr(storage.db, "give_back", cut_short)
    with pytest.raises(asyncio.CancelledError):
        async with sqlite_db.direct_write() as uow:
            change = await uow.book_free(slot.id, patient.id, identity.require_account(), T0, T0 + timedelta(days=14))
            await uow.commit()
    assert heard == [[change]]


@pytest.mark.parametrize("unit", ["session", "own transaction"])
async def test_an_error_is_sqlalchemys_names_no_parameters_and_undoes_the_transaction(
        sqlite_db: Database, unit: str) -> None:
    identity, (patient,) = await factories.account(sqlite_db, 1, T0, snils="11223344595")
    # No such slot: the foreign key refuses it.
    orphan = portal_appointment_values(patient, identity.require_account(), 999_999, 1, START, T0)
    with pytest.raises(IntegrityError) as raised:
        if unit == "session":
            async with sqlite_db.write() as uow:
                uow.audit.record(T0, "kept only if the transaction commits")
                await uow.audit.write_pending()
                await uow.appointments.insert(Appointment(**orphan))
        else:
            async with sqlite_db.direct_write() as direct:
                direct.audit.record(T0, "kept only if the transaction commits")
                await direct.audit.write_pending()
                await direct.insert_appointment(orphan)
    assert "11223344595" not in str(raised.value)
    async with sqlite_db.read() as uow:
        assert await uow.audit.recent() == []
        assert list(await uow.session.scalars(select(Appointment.id))) == []


async def test_a_misspelt_column_of_a_new_appointment_is_refused_not_left_null(sqlite_db: Database) -> None:
    identity, (patient,) = await factories.account(sqlite_db, 1, T0)
    values = portal_appointment_values(patient, identity.require_account(), 1, 1, START, T0)
    values["patient_snlis"] = values.pop("patient_snils")
    with pytest.raises(ValueError, match="patient_snlis"):
        async with sqlite_db.direct_write() as uow:
            await uow.insert_appointment(values)


def test_a_person_snapshot_holds_every_column_of_a_patient() -> None:
    """``Person`` is built from rows in ``Patient``'s column order: a column added to one only fails here."""
    assert tuple(field.name for field in fields(Person)) == PATIENT_COLUMNS


async def test_who_is_this_reads_on_a_pooled_connection_what_the_orm_would(db: Database) -> None:
    identity, people = await factories.account(db, 1, T0, people=3, snils="11223344595")
    found = await who_is(db, identity.telegram_id, factories.CONSENT)
    async with db.read() as uow:
        orm = await uow.patients.of_account(identity.require_account())
    assert found is not None and found.people == [Person.of(p) for p in orm]
    assert [p.id for p in found.people] == [p.id for p in people]  # owner first, as the card file lists them
    owner = found.people[0]
    assert owner.submitted_at == T0 and owner.submitted_at.tzinfo is UTC and owner.birth_date.year == 1985
    assert owner.status is ModerationStatus.CONFIRMED and owner.snils == "11223344595"


async def test_a_value_the_column_refuses_is_sqlalchemys_statement_error(sqlite_db: Database) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        async with sqlite_db.write() as uow:
            uow.audit.record(datetime(2026, 12, 1, 9, 0), "a naive time")
            await uow.commit()
