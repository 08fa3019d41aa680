"""The calendar file of a booked visit (RFC 5545): long lines folded at 75 octets, and the visit as
long as its slot, read back by an iCalendar parser."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar

from bot.ics import appointment_ics
from core.booking import BookingService
from core.clock import FixedClock
from storage.db import Database
from storage.models import Organization
from tests import factories

LONG_NAME = "Государственное бюджетное учреждение здравоохранения «Городская поликлиника № 12»"
LONG_ADDRESS = "Российская Федерация, Свердловская область, г. Екатеринбург, ул. Малышева, д. 42, корп. 3"


async def test_the_calendar_file_is_folded_and_lasts_as_long_as_the_slot(db: Database, clock: FixedClock) -> None:
    org, (doctor,) = await factories.clinic(db)
    async with db.write() as uow:
        row = await uow.session.get(Organization, org.id)
        assert row is not None
        row.name, row.address = LONG_NAME, LONG_ADDRESS
        await uow.commit()
    (slot,) = await factories.slots(db, doctor, clock.now() + timedelta(days=2), 1, step=timedelta(minutes=20))
    identity, (anna,) = await factories.account(db, 1, clock.now())
    booking = BookingService(db, clock)
    booked = await booking.book(identity, anna.id, slot.id)

    data = appointment_ics(await booking.appointment(identity, booked.id), clock.now())

    lines = data.split(b"\r\n")
    assert max(len(line) for line in lines) <= 75  # octets, not letters
    assert any(line.startswith(b" ") for line in lines)  # the location did need folding
    (event,) = Calendar.from_ical(data).events
    assert str(event["LOCATION"]) == f"{LONG_NAME}, {LONG_ADDRESS}, каб. {doctor.cabinet}"
    assert str(event["SUMMARY"]) == f"Приём: Терапевт, {doctor.full_name}"
    assert event.start == slot.starts_at
    assert event.end - event.start == timedelta(minutes=20)
