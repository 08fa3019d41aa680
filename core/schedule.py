"""Browsing doctors' schedules: only free times within the booking horizon are offered (R6).

Every screen reads the database (ix_slots_doctor_status_start): a time booked a moment ago, here or
in another process, is not offered again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from core.catalog import Catalog, DoctorInfo, SpecialtyInfo, doctor_in, doctors_of, specialties_in
from core.clock import Clock
from core.enums import SlotStatus
from core.errors import NotFound
from core.identity import Identity
from storage.db import Database


@dataclass(frozen=True)
class FreeTime:
    slot_id: int
    starts_at: datetime


@dataclass(frozen=True)
class DoctorChoice:
    doctor: DoctorInfo
    next_free: datetime | None


@dataclass(frozen=True)
class DoctorPage:
    """One screen of a specialty's doctors; the nearest free time is looked up for these only."""

    specialty: SpecialtyInfo
    choices: list[DoctorChoice]
    has_prev: bool
    has_next: bool


@dataclass(frozen=True)
class ScheduleCell:
    """One time of a doctor's day as the schedule view shows it (R19)."""

    slot_id: int
    starts_at: datetime
    free: bool
    own_appointment_id: int | None  # booked under this account: the portal's red frame


def day_bounds(doctor: DoctorInfo, day: date) -> tuple[datetime, datetime]:
    """The day in the doctor's clinic's own time zone."""
    zone = ZoneInfo(doctor.org.timezone)
    start = datetime.combine(day, datetime.min.time(), zone)
    return start, datetime.combine(day + timedelta(days=1), datetime.min.time(), zone)


class ScheduleService:
    def __init__(self, db: Database, clock: Clock, horizon_days: int = 14) -> None:
        self.db = db
        self.clock = clock
        self.catalog = Catalog(db)
        self.horizon = timedelta(days=horizon_days)

    async def specialties(self) -> list[SpecialtyInfo]:
        return await self.catalog.specialties()

    async def doctors(self, specialty_id: int, page: int, per_page: int) -> DoctorPage:
        first = max(page, 0) * per_page
        now = self.clock.now()
        async with self.db.read() as uow:
            specialty = (await specialties_in(uow, [specialty_id])).get(specialty_id)
            if specialty is None:
                raise NotFound()
            doctors = await doctors_of(uow, specialty_id)
            shown = doctors[first:first + per_page]
            nearest = await uow.slots.nearest_free([d.id for d in shown], now, now + self.horizon)
        return DoctorPage(specialty, [DoctorChoice(d, nearest.get(d.id)) for d in shown],
                          first > 0, first + per_page < len(doctors))

    async def free_dates(self, doctor_id: int) -> tuple[DoctorInfo, list[date]]:
        now = self.clock.now()
        async with self.db.read() as uow:
            doctor = await doctor_in(uow, doctor_id)
            starts = await uow.slots.free_starts(doctor_id, now, now + self.horizon)
        zone = ZoneInfo(doctor.org.timezone)
        return doctor, list(dict.fromkeys(s.astimezone(zone).date() for s in starts))

    async def free_times(self, doctor_id: int, day: date) -> tuple[DoctorInfo, list[FreeTime]]:
        now = self.clock.now()
        async with self.db.read() as uow:
            doctor = await doctor_in(uow, doctor_id)
            start, end = day_bounds(doctor, day)
            rows = await uow.slots.free_of_doctor(doctor_id, max(start, now), min(end, now + self.horizon))
        return doctor, [FreeTime(slot_id, starts) for slot_id, starts in rows]

    async def day_view(self, identity: Identity, doctor_id: int, day: date) -> tuple[DoctorInfo, list[ScheduleCell]]:
        """The doctor's whole day with this account's own bookings marked (R19)."""
        account_id = identity.require_account()
        async with self.db.read() as uow:
            doctor = await doctor_in(uow, doctor_id)
            start, end = day_bounds(doctor, day)
            slots = await uow.slots.day(doctor_id, max(start, self.clock.now()), end)
            own = await uow.appointments.active_of_account_on_slots(account_id, [s.id for s in slots])
        own_by_slot = {a.slot_id: a.id for a in own}
        return doctor, [
            ScheduleCell(s.id, s.starts_at, s.status == SlotStatus.FREE, own_by_slot.get(s.id)) for s in slots
        ]
