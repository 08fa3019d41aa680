from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import WaitlistStatus
from storage.models import WaitlistEntry

OPEN = (WaitlistStatus.WAITING, WaitlistStatus.OFFERED)


class WaitlistRepo:
    """Queue entries and offers (R8–R15)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def close_all_for_patient(self, patient_id: int, now: datetime) -> None:
        await self.session.execute(
            update(WaitlistEntry)
            .where(WaitlistEntry.patient_id == patient_id, WaitlistEntry.status.in_(OPEN))
            .values(status=WaitlistStatus.LEFT, closed_at=now)
        )
