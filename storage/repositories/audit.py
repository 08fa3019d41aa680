from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.direct import DirectStatement, Target
from storage.models import AuditEntry

_KEYS = ("at", "action", "actor_telegram_id", "account_id", "subject", "details")
_INSERT = DirectStatement(insert(cast(Table, AuditEntry.__table__)), _KEYS)


class AuditTrail:
    """Audit rows are written by plain INSERTs just before the commit, not through the ORM's flush:
    they are never read back in the transaction that writes them, and the flush's work would be
    done while the booking holds SQLite's one writer."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self._pending: list[dict[str, Any]] = []

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
        self._pending.append(dict(zip(_KEYS, (at, action, actor, account_id, subject, details), strict=True)))

    async def write_pending(self) -> None:
        if not self._pending:
            return
        rows, self._pending = self._pending, []
        await _INSERT.execute_each(self.target, rows)


class AuditRepo(AuditTrail):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self.session = session

    async def recent(self, limit: int = 50) -> list[AuditEntry]:
        rows = await self.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit))
        return list(rows)
