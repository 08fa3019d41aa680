"""What a patient's booking asks of SQLite reads their own rows, whatever the others hold (R7, R20).

Each statement the services send while a patient books, looks at their visits and cancels is
captured with its parameters and shown to SQLite's planner (EXPLAIN QUERY PLAN) on the same
database, with no statistics, as a fresh deployment has. A booking that read every patient's
future appointments grows slower with each one booked, unseen by a test on a small database.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event

from core.booking import BookingService
from core.clock import FixedClock
from core.rules import RuleDefaults
from core.visits import VisitsService
from storage.db import Database
from tests import factories

# A patient's rows are reached by a key of theirs, or of the slot or appointment in hand.
_KEYED = re.compile(r"\((?:rowid|id|patient_id|slot_id|account_id|made_by_account_id|patient_oms|patient_snils"
                    r"|doctor_id|telegram_id)=\?")
_PATIENT_TABLES = ("appointments", "slots", "patients", "telegram_users", "accounts", "waitlist_entries")


def _first_row_only(statement: str) -> bool:
    """«Is anyone waiting?»: the index's first row answers, however many there are."""
    return re.search(r"LIMIT \?\s*(OFFSET \?)?\s*$", statement) is not None


@contextmanager
def _statements(db: Database) -> Iterator[list[tuple[str, Any]]]:
    """What SQLAlchemy sends to SQLite, with its parameters."""
    seen: list[tuple[str, Any]] = []

    def note(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, many: bool) -> None:
        if not many and statement.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE")):
            seen.append((statement, parameters))

    event.listen(db.engine.sync_engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", note)


def _plans(db: Database, statements: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    connection = sqlite3.connect(db.engine.url.database or "")
    try:
        return [(statement, row[3]) for statement, parameters in statements
                for row in connection.execute(f"EXPLAIN QUERY PLAN {statement}", parameters or ())]
    finally:
        connection.close()


async def test_booking_visits_and_cancelling_read_by_the_patients_keys(
        sqlite_db: Database, clock: FixedClock) -> None:
    db = sqlite_db
    _, (doctor,) = await factories.clinic(db)
    slots = await factories.slots(db, doctor, clock.now() + timedelta(days=3), 12)
    others = [await factories.account(db, 100 + i, clock.now()) for i in range(10)]
    booking = BookingService(db, clock)
    for (identity, (patient,)), slot in zip(others, slots, strict=False):
        await booking.book(identity, patient.id, slot.id)  # the others' future appointments
    identity, (anna,) = await factories.account(db, 1, clock.now())
    visits = VisitsService(db, clock, RuleDefaults())

    with _statements(db) as statements:
        booked = await booking.book(identity, anna.id, slots[-1].id)
        await visits.overview(identity)
        await booking.cancel(identity, booked.id)

    plans = _plans(db, statements)
    assert any("ix_appointments_patient_status_starts" in detail for _, detail in plans)  # the booking's rule
    unkeyed = [(statement.split("WHERE")[0][:60], detail) for statement, detail in plans
               if detail.startswith(("SCAN", "SEARCH")) and detail.split()[1] in _PATIENT_TABLES
               and not _KEYED.search(detail) and not _first_row_only(statement)]
    assert unkeyed == []
