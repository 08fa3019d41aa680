"""Clinics, specialties and doctors as the screens name them, read from the database on each use:
an import by another process (``python -m bot import-fhir``) shows on the next screen."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from core.errors import NotFound
from storage.db import Database
from storage.models import Doctor, Organization, Specialty
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class OrgInfo:
    id: int
    name: str
    address: str | None
    phone: str | None
    timezone: str
    waitlist_enabled: bool

    @classmethod
    def of(cls, org: Organization) -> OrgInfo:
        return cls(org.id, org.name, org.address, org.phone, org.timezone, org.waitlist_enabled)


@dataclass(frozen=True)
class SpecialtyInfo:
    id: int
    name: str

    @classmethod
    def of(cls, specialty: Specialty) -> SpecialtyInfo:
        return cls(specialty.id, specialty.name)


@dataclass(frozen=True)
class DoctorInfo:
    id: int
    name: str
    cabinet: str | None
    specialty: SpecialtyInfo
    org: OrgInfo

    @classmethod
    def of(cls, doctor: Doctor, org: Organization, specialty: Specialty) -> DoctorInfo:
        return cls(doctor.id, doctor.full_name, doctor.cabinet, SpecialtyInfo.of(specialty), OrgInfo.of(org))


async def doctors_in(uow: UnitOfWork, ids: Collection[int]) -> dict[int, DoctorInfo]:
    """The bookable doctors among ``ids``, by id; a doctor the clinic no longer lists is left out."""
    if not ids:
        return {}
    return {d.id: DoctorInfo.of(d, o, s) for d, o, s in await uow.clinic.active_doctors(ids=set(ids))}


async def doctor_in(uow: UnitOfWork, doctor_id: int) -> DoctorInfo:
    found = (await doctors_in(uow, [doctor_id])).get(doctor_id)
    if found is None:
        raise NotFound()
    return found


async def doctors_of(uow: UnitOfWork, specialty_id: int) -> list[DoctorInfo]:
    """A specialty's bookable doctors, by organization and name."""
    rows = await uow.clinic.active_doctors(specialty_id=specialty_id)
    return sorted((DoctorInfo.of(d, o, s) for d, o, s in rows), key=lambda d: (d.org.name, d.name))


async def orgs_in(uow: UnitOfWork, ids: Collection[int]) -> dict[int, OrgInfo]:
    return {o.id: OrgInfo.of(o) for o in await uow.clinic.organizations_by_id(set(ids))}


async def specialties_in(uow: UnitOfWork, ids: Collection[int]) -> dict[int, SpecialtyInfo]:
    return {s.id: SpecialtyInfo.of(s) for s in await uow.clinic.specialties_by_id(set(ids))}


class Catalog:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def doctor(self, doctor_id: int) -> DoctorInfo:
        async with self.db.read() as uow:
            return await doctor_in(uow, doctor_id)

    async def specialties(self) -> list[SpecialtyInfo]:
        """Only specialties that have doctors to book, by name."""
        async with self.db.read() as uow:
            return [SpecialtyInfo.of(s) for s in await uow.clinic.offered_specialties()]
