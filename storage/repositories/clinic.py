from __future__ import annotations

from sqlalchemy import select
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
