from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Doctor, Organization, Specialty


class ClinicRepo:
    """Organizations, specialties and doctors: reference data that changes only on import."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def organizations(self) -> list[Organization]:
        return list(await self.session.scalars(select(Organization).order_by(Organization.id)))

    async def specialties(self) -> list[Specialty]:
        return list(await self.session.scalars(select(Specialty).order_by(Specialty.name)))

    async def doctors(self) -> list[Doctor]:
        return list(await self.session.scalars(select(Doctor).order_by(Doctor.full_name)))

    async def organization(self, organization_id: int) -> Organization | None:
        return await self.session.get(Organization, organization_id)

    async def doctor(self, doctor_id: int) -> Doctor | None:
        return await self.session.get(Doctor, doctor_id)

    async def organization_by_external(self, external_id: str) -> Organization | None:
        return await self.session.scalar(select(Organization).where(Organization.external_id == external_id))

    async def specialty_by_code(self, code: str) -> Specialty | None:
        return await self.session.scalar(select(Specialty).where(Specialty.code == code))

    async def doctor_by_external(self, external_id: str) -> Doctor | None:
        return await self.session.scalar(select(Doctor).where(Doctor.external_id == external_id))

    async def add(self, row: Organization | Specialty | Doctor) -> None:
        self.session.add(row)
        await self.session.flush()

    async def active_doctors(self, *, ids: Collection[int] | None = None,
                             specialty_id: int | None = None) -> list[tuple[Doctor, Organization, Specialty]]:
        """Doctors a patient may book, with their organization and specialty: by id, of a specialty,
        or all of them."""
        query = (select(Doctor, Organization, Specialty)
                 .join(Organization, Organization.id == Doctor.organization_id)
                 .join(Specialty, Specialty.id == Doctor.specialty_id)
                 .where(Doctor.active.is_(True)))
        if ids is not None:
            query = query.where(Doctor.id.in_(ids))
        if specialty_id is not None:
            query = query.where(Doctor.specialty_id == specialty_id)
        return [(doctor, org, specialty) for doctor, org, specialty in (await self.session.execute(query)).all()]

    async def offered_specialties(self) -> list[Specialty]:
        """Specialties that have a doctor to book: an empty choice helps nobody."""
        has_doctor = exists().where(Doctor.specialty_id == Specialty.id, Doctor.active.is_(True))
        return list(await self.session.scalars(select(Specialty).where(has_doctor).order_by(Specialty.name)))

    async def organizations_by_id(self, ids: Collection[int]) -> list[Organization]:
        return list(await self.session.scalars(select(Organization).where(Organization.id.in_(ids)))) if ids else []

    async def specialties_by_id(self, ids: Collection[int]) -> list[Specialty]:
        return list(await self.session.scalars(select(Specialty).where(Specialty.id.in_(ids)))) if ids else []
