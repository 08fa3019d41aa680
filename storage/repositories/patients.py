from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import ModerationStatus
from storage.changes import changes_of
from storage.models import Patient


def in_card_file(account_id: Any) -> ColumnElement[bool]:
    """A person of this account's card file: not removed from it."""
    return and_(Patient.account_id == account_id, Patient.removed_at.is_(None))


# The order the card file lists its people in: the owner first.
CARD_FILE_ORDER = (Patient.is_owner.desc(), Patient.id)

# Built once: the booking screens read it whenever the in-memory card file has lapsed.
_OF_ACCOUNT = select(Patient).where(in_card_file(bindparam("account_id"))).order_by(*CARD_FILE_ORDER)


class PatientRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def of_account(self, account_id: int) -> list[Patient]:
        return list(await self.session.scalars(_OF_ACCOUNT, {"account_id": account_id}))

    async def owned_by(self, account_id: int, patient_id: int) -> Patient | None:
        """The person only if they are in this account's card file: ids from buttons prove nothing."""
        return await self.session.scalar(
            select(Patient).where(
                Patient.id == patient_id, Patient.account_id == account_id, Patient.removed_at.is_(None)
            )
        )

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
        account_id = await self.session.scalar(
            update(Patient)
            .where(Patient.id == patient_id, Patient.status == ModerationStatus.PENDING)
            .values(status=status, rejection_reason=reason, decided_by=by, decided_at=now)
            .returning(Patient.account_id)
        )
        if account_id is None:
            return False
        changes_of(self.session).card_files.add(account_id)
        return True
