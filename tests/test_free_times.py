"""The free times a patient is shown (R6) are the database's as it is now (R7), on SQLite and PostgreSQL:
a booking, a cancellation, an offer or an import shows on the next screen, whoever made it."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from core.booking import BookingService
from core.clock import FixedClock
from core.enums import SlotStatus
from core.errors import SlotTaken
from core.fhir import import_bundle
from core.rules import RuleDefaults
from core.schedule import ScheduleService
from core.waitlist import WaitlistService
from storage.db import Database
from storage.models import Doctor, Slot
from tests import factories
from tests.test_fhir_import import example, resource

HORIZON_DAYS = 14


async def shown(schedule: ScheduleService, doctor: Doctor, slot: Slot) -> list[int]:
    """The times offered on the day of ``slot``."""
    day = slot.starts_at.astimezone(ZoneInfo("Europe/Moscow")).date()
    _, times = await schedule.free_times(doctor.id, day)
    return [t.slot_id for t in times]


async def elsewhere(db: Database, slot_id: int, status: SlotStatus) -> None:
    """What another process or a clinic's system does to the row."""
    async with db.write() as uow:
        await uow.session.execute(update(Slot).where(Slot.id == slot_id).values(status=status))
        await uow.commit()


async def test_booking_hides_the_time_and_cancelling_shows_it_again(db: Database, clock: FixedClock) -> None:
    _, (doctor,) = await factories.clinic(db)
    a, b, c = await factories.slots(db, doctor, clock.now() + timedelta(days=2), 3)
    identity, (anna,) = await factories.account(db, 1, clock.now())
    schedule, booking = ScheduleService(db, clock), BookingService(db, clock)
    assert await shown(schedule, doctor, a) == [a.id, b.id, c.id]
    booked = await booking.book(identity, anna.id, b.id)
    assert await shown(schedule, doctor, a) == [a.id, c.id]
    await booking.cancel(identity, booked.id)
    assert await shown(schedule, doctor, a) == [a.id, b.id, c.id]


async def test_cancelled_time_held_for_the_queue_is_not_shown(db: Database, clock: FixedClock) -> None:
    """R10: a freed time offered to a waiting patient is held, not free."""
    _, (doctor,) = await factories.clinic(db)
    (slot,) = await factories.slots(db, doctor, clock.now() + timedelta(days=3), 1)
    schedule, booking = ScheduleService(db, clock), BookingService(db, clock)
    waitlist = WaitlistService(db, clock, HORIZON_DAYS, RuleDefaults())
    booker, (boris,) = await factories.account(db, 1, clock.now())
    waiting, (vera,) = await factories.account(db, 2, clock.now())
    booked = await booking.book(booker, boris.id, slot.id)
    await waitlist.join(waiting, vera.id, doctor.id, any_doctor=False)
    await booking.cancel(booker, booked.id)
    assert await shown(schedule, doctor, slot) == []


async def test_a_time_taken_elsewhere_is_refused_and_gone_from_the_next_screen(
        db: Database, clock: FixedClock) -> None:
    """R7: the patient who pressed a time another patient took meanwhile is refused, then shown fresh times."""
    _, (doctor,) = await factories.clinic(db)
    a, b = await factories.slots(db, doctor, clock.now() + timedelta(days=2), 2)
    identity, (anna,) = await factories.account(db, 1, clock.now())
    schedule, booking = ScheduleService(db, clock), BookingService(db, clock)
    assert await shown(schedule, doctor, a) == [a.id, b.id]
    await elsewhere(db, a.id, SlotStatus.BOOKED)
    with pytest.raises(SlotTaken):
        await booking.book(identity, anna.id, a.id)
    assert await shown(schedule, doctor, a) == [b.id]


async def test_an_import_shows_on_the_next_screen(db: Database, clock: FixedClock) -> None:
    """R27: a slot the clinic marks busy leaves the screen with the import."""
    bundle = example()
    clock.advance(timedelta(days=10))  # the example's times are in mid-December
    await import_bundle(db, bundle, clock.now())
    async with db.read() as uow:
        slot = await uow.slots.by_external("gp7-petrova-20261214-0930")
        assert slot is not None
        doctor = await uow.clinic.doctor(slot.doctor_id)
    assert slot.status == SlotStatus.FREE and doctor is not None
    schedule = ScheduleService(db, clock)
    assert slot.id in await shown(schedule, doctor, slot)
    resource(bundle, "Slot", "gp7-petrova-20261214-0930")["status"] = "busy"
    await import_bundle(db, bundle, clock.now())
    assert slot.id not in await shown(schedule, doctor, slot)


async def test_only_now_to_horizon_is_shown_as_the_clock_moves(db: Database, clock: FixedClock) -> None:
    """R6: never a past time, never beyond the booking horizon."""
    _, (doctor,) = await factories.clinic(db)
    horizon = timedelta(days=HORIZON_DAYS)
    (soon,) = await factories.slots(db, doctor, clock.now() + timedelta(hours=1), 1)
    (last_day,) = await factories.slots(db, doctor, clock.now() + horizon - timedelta(hours=1), 1)
    (beyond,) = await factories.slots(db, doctor, clock.now() + horizon + timedelta(hours=1), 1)
    schedule = ScheduleService(db, clock, HORIZON_DAYS)

    async def dates() -> list[int]:
        _, days = await schedule.free_dates(doctor.id)
        return [(day - soon.starts_at.astimezone(ZoneInfo("Europe/Moscow")).date()).days for day in days]

    assert await dates() == [0, HORIZON_DAYS]
    assert await shown(schedule, doctor, last_day) == [last_day.id]
    clock.advance(timedelta(hours=2))
    assert await dates() == [HORIZON_DAYS]
    assert await shown(schedule, doctor, last_day) == [last_day.id, beyond.id]
    page = await schedule.doctors(doctor.specialty_id, 0, 10)
    assert [c.next_free for c in page.choices] == [last_day.starts_at]
