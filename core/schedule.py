"""Browsing doctors' schedules: only free times within the booking horizon are offered (R6)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from core.catalog import CatalogCache, DoctorInfo, SpecialtyInfo
from core.clock import Clock
from core.enums import SlotStatus
from core.free_times import FreeTime, FreeTimeCache
from core.identity import Identity
from storage.db import Database


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


class ScheduleService:
    def __init__(self, db: Database, clock: Clock, catalog: CatalogCache, free: FreeTimeCache) -> None:
        self.db = db
        self.clock = clock
        self.catalog = catalog
        self.free = free
        self.horizon = free.horizon

    async def specialties(self) -> list[SpecialtyInfo]:
        return (await self.catalog.get()).offered_specialties()

    async def doctors(self, specialty_id: int, page: int, per_page: int) -> DoctorPage:
        catalog = await self.catalog.get()
        specialty = catalog.specialty(specialty_id)
        doctors = catalog.doctors_of(specialty_id)
        first = max(page, 0) * per_page
        shown = doctors[first:first + per_page]
        nearest = await self.free.next_free([d.id for d in shown])
        return DoctorPage(specialty, [DoctorChoice(d, nearest.get(d.id)) for d in shown],
                          first > 0, first + per_page < len(doctors))

    async def free_dates(self, doctor_id: int) -> tuple[DoctorInfo, list[date]]:
        doctor = await self.catalog.doctor(doctor_id)
        zone = ZoneInfo(doctor.org.timezone)
        days = OrderedDict.fromkeys(t.starts_at.astimezone(zone).date() for t in await self.free.times(doctor_id))
        return doctor, list(days)

    def _day_bounds(self, doctor: DoctorInfo, day: date) -> tuple[datetime, datetime]:
        zone = ZoneInfo(doctor.org.timezone)
        start = datetime.combine(day, datetime.min.time(), zone)
        return start, datetime.combine(day + timedelta(days=1), datetime.min.time(), zone)

    async def free_times(self, doctor_id: int, day: date) -> tuple[DoctorInfo, list[FreeTime]]:
        doctor = await self.catalog.doctor(doctor_id)
        start, end = self._day_bounds(doctor, day)
        return doctor, await self.free.times(doctor_id, start, end)

    async def day_view(self, identity: Identity, doctor_id: int, day: date) -> tuple[DoctorInfo, list[ScheduleCell]]:
        """The doctor's whole day with this account's own bookings marked (R19)."""
        account_id = identity.require_account()
        doctor = await self.catalog.doctor(doctor_id)
        start, end = self._day_bounds(doctor, day)
        start = max(start, self.clock.now())
        async with self.db.read() as uow:
            slots = await uow.slots.day(doctor_id, start, end)
            own = await uow.appointments.active_of_account_on_slots(account_id, [s.id for s in slots])
        own_by_slot = {a.slot_id: a.id for a in own}
        return doctor, [
            ScheduleCell(s.id, s.starts_at, s.status == SlotStatus.FREE, own_by_slot.get(s.id)) for s in slots
        ]
