"""Race (R7): 200 patients confirm 20 slots at once — exactly 20 appointments, 180 clear refusals."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from sqlalchemy import func, select

from bench.common import T0, Outcome, database, services
from core.clock import FixedClock
from core.errors import DomainError
from storage.models import Appointment
from tests import factories

PATIENTS, SLOTS = 200, 20


async def run(postgres_url: str | None = None) -> Outcome:
    backend = "postgres" if postgres_url else "sqlite"
    async with database(postgres_url) as db:
        _, (doctor,) = await factories.clinic(db)
        slots = await factories.slots(db, doctor, T0 + timedelta(days=2), SLOTS)
        people = [await factories.account(db, 10_000 + i, T0) for i in range(PATIENTS)]
        booking = services(db, FixedClock(T0)).booking
        start = time.perf_counter()
        results = await asyncio.gather(*(
            booking.book(identity, patients[0].id, slots[i % SLOTS].id)
            for i, (identity, patients) in enumerate(people)
        ), return_exceptions=True)
        elapsed = time.perf_counter() - start
        booked = sum(not isinstance(r, BaseException) for r in results)
        refused = sum(isinstance(r, DomainError) for r in results)
        errors = [r for r in results if isinstance(r, BaseException) and not isinstance(r, DomainError)]
        async with db.read() as uow:
            stored = await uow.session.scalar(select(func.count()).select_from(Appointment))
    ok = (booked, refused, len(errors), stored) == (SLOTS, PATIENTS - SLOTS, 0, SLOTS)
    line = (f"race [{backend}]: {PATIENTS} patients × {SLOTS} slots → {booked} booked, {refused} refused, "
            f"{len(errors)} errors, {stored} stored in {elapsed:.2f} s — {'OK' if ok else 'FAIL'}"
            + (f" ({type(errors[0]).__name__}: {errors[0]})" if errors else ""))
    summary = (f"race [{backend}]: {PATIENTS} patients for {SLOTS} slots, {booked} booked, {stored} stored — "
               f"{'OK' if ok else 'FAIL'}")
    return Outcome([line], summary, ok)
