from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import ModerationStatus
from storage.models import Patient


class PatientRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def of_account(self, account_id: int) -> list[Patient]:
        """The account's card file, the owner first."""
        return list(await self.session.scalars(
            select(Patient).where(Patient.account_id == account_id, Patient.removed_at.is_(None))
            .order_by(Patient.is_owner.desc(), Patient.id)))

    async def owned_by(self, account_id: int, patient_id: int, *, lock: bool = False) -> Patient | None:
        """The person only if they are in this account's card file: ids from buttons prove nothing.
        ``lock``: on PostgreSQL, the person's other writes wait for this transaction (SQLite's writers
        wait for each other anyway)."""
        query = select(Patient).where(
            Patient.id == patient_id, Patient.account_id == account_id, Patient.removed_at.is_(None))
        return await self.session.scalar(query.with_for_update() if lock else query)

    async def owner(self, account_id: int) -> Patient | None:
        return await self.session.scalar(
            select(Patient).where(
                Patient.account_id == account_id, Patient.is_owner.is_(True), Patient.removed_at.is_(None)
            )
        )

    async def get(self, patient_id: int) -> Patient | None:
        return await self.session.get(Patient, patient_id)

    async def add(self, patient: Patient) -> Patient:
        self.session.add(patient)
        await self.session.flush()
        return patient

    async def pending(self, limit: int = 20) -> list[Patient]:
        rows = await self.session.scalars(
            select(Patient)
            .where(Patient.status == ModerationStatus.PENDING, Patient.removed_at.is_(None))
            .order_by(Patient.submitted_at)
            .limit(limit)
        )
        return list(rows)

    async def reload(self, patient: Patient) -> None:
        """Re-read a row another transaction (or our own conditional UPDATE) has changed."""
        await self.session.refresh(patient)

    async def decide(
        self, patient_id: int, status: ModerationStatus, reason: str | None, by: int, now: datetime
    ) -> bool:
        """The first decision wins: only a pending person changes."""
        result = await self.session.execute(
            update(Patient)
            .where(Patient.id == patient_id, Patient.status == ModerationStatus.PENDING)
            .values(status=status, rejection_reason=reason, decided_by=by, decided_at=now)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]
