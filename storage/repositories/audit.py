from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry


class AuditRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def record(
        self,
        at: datetime,
        action: str,
        *,
        actor: int | None = None,
        account_id: int | None = None,
        subject: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Written with the transaction's commit, and only then."""
        self.session.add(AuditEntry(at=at, action=action, actor_telegram_id=actor, account_id=account_id,
                                    subject=subject, details=details))

    async def recent(self, limit: int = 50) -> list[AuditEntry]:
        rows = await self.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit))
        return list(rows)
