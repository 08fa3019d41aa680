"""Reference data (organizations, specialties, doctors) kept in memory.

It changes only on import or an operator's switch, while every step of the booking
conversation needs names of it; reading it from the database on each update would double
the round trips. The cache reloads after ``ttl`` and at once when this process changes it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from core.errors import NotFound
from storage.db import Database


@dataclass(frozen=True)
class OrgInfo:
    id: int
    name: str
    address: str | None
    phone: str | None
    timezone: str
    waitlist_enabled: bool


@dataclass(frozen=True)
class SpecialtyInfo:
    id: int
    name: str


@dataclass(frozen=True)
class DoctorInfo:
    id: int
    name: str
    cabinet: str | None
    specialty: SpecialtyInfo
    org: OrgInfo


@dataclass(frozen=True)
class Catalog:
    orgs: dict[int, OrgInfo] = field(default_factory=dict)
    specialties: dict[int, SpecialtyInfo] = field(default_factory=dict)
    doctors: dict[int, DoctorInfo] = field(default_factory=dict)

    def doctor(self, doctor_id: int) -> DoctorInfo:
        try:
            return self.doctors[doctor_id]
        except KeyError:
            raise NotFound() from None

    def specialty(self, specialty_id: int) -> SpecialtyInfo:
        try:
            return self.specialties[specialty_id]
        except KeyError:
            raise NotFound() from None

    def doctors_of(self, specialty_id: int) -> list[DoctorInfo]:
        return sorted((d for d in self.doctors.values() if d.specialty.id == specialty_id),
                      key=lambda d: (d.org.name, d.name))

    def offered_specialties(self) -> list[SpecialtyInfo]:
        """Only specialties that have doctors: an empty choice helps nobody."""
        used = {d.specialty.id for d in self.doctors.values()}
        return sorted((s for s in self.specialties.values() if s.id in used), key=lambda s: s.name)


class CatalogCache:
    def __init__(self, db: Database, ttl_seconds: float = 60.0) -> None:
        self.db = db
        self.ttl = ttl_seconds
        self._catalog: Catalog | None = None
        self._loaded_at = 0.0

    MISS_RELOAD_SECONDS = 2.0

    def invalidate(self) -> None:
        self._catalog = None

    async def get(self) -> Catalog:
        if self._catalog is None or time.monotonic() - self._loaded_at > self.ttl:
            self._catalog = await self._load()
            self._loaded_at = time.monotonic()
        return self._catalog

    async def doctor(self, doctor_id: int) -> DoctorInfo:
        """A doctor imported since the last load is found too: a miss reloads, at most every few seconds
        (ids come from buttons, and forged ones must not turn into a reload per update)."""
        catalog = await self.get()
        if doctor_id not in catalog.doctors and time.monotonic() - self._loaded_at > self.MISS_RELOAD_SECONDS:
            self.invalidate()
            catalog = await self.get()
        return catalog.doctor(doctor_id)

    async def _load(self) -> Catalog:
        async with self.db.read() as uow:
            orgs = {o.id: OrgInfo(o.id, o.name, o.address, o.phone, o.timezone, o.waitlist_enabled)
                    for o in await uow.clinic.organizations()}
            specialties = {s.id: SpecialtyInfo(s.id, s.name) for s in await uow.clinic.specialties()}
            doctors = {
                d.id: DoctorInfo(d.id, d.full_name, d.cabinet, specialties[d.specialty_id], orgs[d.organization_id])
                for d in await uow.clinic.doctors() if d.active
            }
        return Catalog(orgs, specialties, doctors)
