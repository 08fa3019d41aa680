"""The in-memory view of free times (R6) stays true to the database (R7) on SQLite and PostgreSQL.

This process's own changes (booking, cancelling, offers, imports) must show at once; a change it
did not make shows after the view's ttl, and a booking refused because of such a change shows
fresh times at once.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import event, update

from core.booking import BookingService
from core.clock import FixedClock
from core.enums import SlotStatus
from core.errors import SlotTaken
from core.fhir import import_bundle
from core.free_times import FreeTimeCache
from core.rules import RuleDefaults
from core.views import Views
from core.waitlist import WaitlistService
from storage.db import Database
from storage.models import Doctor, Slot
from tests import factories
from tests.test_fhir_import import example, resource

HORIZON = timedelta(days=14)


def view(db: Database, clock: FixedClock, ttl: float = 60.0) -> FreeTimeCache:
    return FreeTimeCache(db, clock, HORIZON, ttl)


def booking_and_view(db: Database, clock: FixedClock) -> tuple[BookingService, FreeTimeCache]:
    views = Views.of(db, clock)
    return BookingService(db, clock, views), views.free_times


async def shown(free: FreeTimeCache, doctor: Doctor) -> list[int]:
    return [t.slot_id for t in await free.times(doctor.id)]


async def behind_the_views_back(db: Database, slot_id: int, status: SlotStatus) -> None:
    """What another process does: the row changes, this process is not told."""
    async with db.write() as uow:
        await uow.session.execute(update(Slot).where(Slot.id == slot_id).values(status=status))
        await uow.commit()


async def test_booking_here_hides_the_time_at_once(db: Database, clock: FixedClock) -> None:
    _, (doctor,) = await factories.clinic(db)
    a, b, c = await factories.slots(db, doctor, clock.now() + timedelta(days=2), 3)
    identity, (anna,) = await factories.account(db, 1, clock.now())
    booking, free = booking_and_view(db, clock)
    assert await shown(free, doctor) == [a.id, b.id, c.id]
    await booking.book(identity, anna.id, b.id)
    assert await shown(free, doctor) == [a.id, c.id]
    assert free.find(b.id) is None


async def test_cancel_here_shows_the_time_again_at_once(db: Database, clock: FixedClock) -> None:
    _, (doctor,) = await factories.clinic(db)
    a, b = await factories.slots(db, doctor, clock.now() + timedelta(days=2), 2)
    identity, (anna,) = await factories.account(db, 1, clock.now())
    booking, free = booking_and_view(db, clock)
    booked = await booking.book(identity, anna.id, a.id)
    assert await shown(free, doctor) == [b.id]
    await booking.cancel(identity, booked.id)
    assert await shown(free, doctor) == [a.id, b.id]
    found = free.find(a.id)
    assert found is not None and found[0] == doctor.id and found[1].starts_at == a.starts_at


async def test_cancelled_time_held_for_the_queue_is_not_shown(db: Database, clock: FixedClock) -> None:
    """R10: a freed time offered to a waiting patient is held, not free, in the view too."""
    _, (doctor,) = await factories.clinic(db)
    (slot,) = await factories.slots(db, doctor, clock.now() + timedelta(days=3), 1)
    views = Views.of(db, clock)
    free = views.free_times
    booking = BookingService(db, clock, views)
    waitlist = WaitlistService(db, clock, views.catalog, 14, RuleDefaults())
    booker, (boris,) = await factories.account(db, 1, clock.now())
    waiting, (vera,) = await factories.account(db, 2, clock.now())
    booked = await booking.book(booker, boris.id, slot.id)
    await waitlist.join(waiting, vera.id, doctor.id, any_doctor=False)
    assert await shown(free, doctor) == []
    await booking.cancel(booker, booked.id)
    assert await shown(free, doctor) == []


async def test_change_elsewhere_shows_after_ttl(db: Database, clock: FixedClock) -> None:
    _, (doctor,) = await factories.clinic(db)
    a, b = await factories.slots(db, doctor, clock.now() + timedelta(days=2), 2)
    free = view(db, clock, ttl=0.3)
    assert await shown(free, doctor) == [a.id, b.id]
    await behind_the_views_back(db, a.id, SlotStatus.BOOKED)
    assert await shown(free, doctor) == [a.id, b.id]  # not told: still the old picture
    await asyncio.sleep(0.35)
    assert await shown(free, doctor) == [b.id]


async def test_refused_booking_shows_fresh_times(db: Database, clock: FixedClock) -> None:
    """R7: the loser of a race with another process is refused, and the view forgets the doctor."""
    _, (doctor,) = await factories.clinic(db)
    a, b = await factories.slots(db, doctor, clock.now() + timedelta(days=2), 2)
    identity, (anna,) = await factories.account(db, 1, clock.now())
    booking, free = booking_and_view(db, clock)
    assert await shown(free, doctor) == [a.id, b.id]
    await behind_the_views_back(db, a.id, SlotStatus.BOOKED)
    with pytest.raises(SlotTaken):
        await booking.book(identity, anna.id, a.id)
    assert await shown(free, doctor) == [b.id]


async def test_import_here_starts_the_view_over(db: Database, clock: FixedClock) -> None:
    """R27: an import in this process (the demo load, say) is seen at once, row by row changes and all."""
    bundle = example()
    clock.advance(timedelta(days=10))  # the example's times are in mid-December
    await import_bundle(db, bundle, clock.now())
    async with db.read() as uow:
        slot = await uow.slots.by_external("gp7-petrova-20261214-0930")
    assert slot is not None and slot.status == SlotStatus.FREE
    free = view(db, clock)
    assert slot.id in [t.slot_id for t in await free.times(slot.doctor_id)]
    resource(bundle, "Slot", "gp7-petrova-20261214-0930")["status"] = "busy"
    await import_bundle(db, bundle, clock.now())
    assert slot.id not in [t.slot_id for t in await free.times(slot.doctor_id)]


async def test_only_now_to_horizon_is_shown_as_the_clock_moves(db: Database, clock: FixedClock) -> None:
    """R6: never a past time, never beyond the booking horizon, whenever the view was read."""
    _, (doctor,) = await factories.clinic(db)
    soon, *_ = await factories.slots(db, doctor, clock.now() + timedelta(hours=1), 1)
    last_day, *_ = await factories.slots(db, doctor, clock.now() + HORIZON - timedelta(hours=1), 1)
    (beyond,) = await factories.slots(db, doctor, clock.now() + HORIZON + timedelta(hours=1), 1)
    free = view(db, clock)
    assert await shown(free, doctor) == [soon.id, last_day.id]
    clock.advance(timedelta(hours=2))
    assert await shown(free, doctor) == [last_day.id, beyond.id]
    assert (await free.next_free([doctor.id]))[doctor.id] == last_day.starts_at


async def test_patients_opening_the_same_doctor_at_once_share_one_read(db: Database, clock: FixedClock) -> None:
    _, doctors = await factories.clinic(db, doctors=2)
    for doctor in doctors:
        await factories.slots(db, doctor, clock.now() + timedelta(days=1), 3)
    reads: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "FROM slots" in statement:
            reads.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    free = view(db, clock)
    results = await asyncio.gather(*(free.times(doctors[0].id) for _ in range(10)),
                                   free.next_free([d.id for d in doctors]))
    assert len({tuple(t.slot_id for t in r) for r in results[:10]}) == 1
    assert set(results[10]) == {d.id for d in doctors}
    assert len(reads) == 2  # the first caller's doctor, then the other doctor for next_free
    await free.times(doctors[1].id)
    assert len(reads) == 2
