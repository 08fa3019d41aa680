"""Browsing doctors' schedules: only free times within the booking horizon are offered (R6)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from core.catalog import CatalogCache, DoctorInfo, SpecialtyInfo
from core.clock import Clock
from core.enums import SlotStatus
from core.identity import Identity
from storage.db import Database


@dataclass(frozen=True)
class DoctorChoice:
    doctor: DoctorInfo
    next_free: datetime | None


@dataclass(frozen=True)
class FreeTime:
    slot_id: int
    starts_at: datetime


@dataclass(frozen=True)
class ScheduleCell:
    """One time of a doctor's day as the schedule view shows it (R19)."""

    slot_id: int
    starts_at: datetime
    free: bool
    own_appointment_id: int | None  # booked under this account: the portal's red frame


class ScheduleService:
    def __init__(self, db: Database, clock: Clock, catalog: CatalogCache, horizon_days: int) -> None:
        self.db = db
        self.clock = clock
        self.catalog = catalog
        self.horizon = timedelta(days=horizon_days)

    def window(self) -> tuple[datetime, datetime]:
        now = self.clock.now()
        return now, now + self.horizon

    async def specialties(self) -> list[SpecialtyInfo]:
        return (await self.catalog.get()).offered_specialties()

    async def doctors(self, specialty_id: int) -> tuple[SpecialtyInfo, list[DoctorChoice]]:
        catalog = await self.catalog.get()
        specialty = catalog.specialty(specialty_id)
        doctors = catalog.doctors_of(specialty_id)
        after, before = self.window()
        async with self.db.read() as uow:
            nearest = await uow.slots.next_free([d.id for d in doctors], after, before)
        return specialty, [DoctorChoice(d, nearest.get(d.id)) for d in doctors]

    async def free_dates(self, doctor_id: int) -> tuple[DoctorInfo, list[date]]:
        doctor = await self.catalog.doctor(doctor_id)
        after, before = self.window()
        async with self.db.read() as uow:
            starts = await uow.slots.free_starts(doctor_id, after, before)
        zone = ZoneInfo(doctor.org.timezone)
        days = OrderedDict.fromkeys(s.astimezone(zone).date() for s in starts)
        return doctor, list(days)

    def _day_bounds(self, doctor: DoctorInfo, day: date) -> tuple[datetime, datetime]:
        zone = ZoneInfo(doctor.org.timezone)
        start = datetime.combine(day, datetime.min.time(), zone)
        return start, datetime.combine(day + timedelta(days=1), datetime.min.time(), zone)

    async def free_times(self, doctor_id: int, day: date) -> tuple[DoctorInfo, list[FreeTime]]:
        doctor = await self.catalog.doctor(doctor_id)
        start, end = self._day_bounds(doctor, day)
        after, before = self.window()
        async with self.db.read() as uow:
            slots = await uow.slots.free_in(doctor_id, max(start, after), min(end, before))
        return doctor, [FreeTime(s.id, s.starts_at) for s in slots]

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
