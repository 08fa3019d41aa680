from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import OutboxStatus
from storage.models import OutboxMessage


class OutboxRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.written = 0

    def add(self, chat_id: int, kind: str, payload: dict[str, Any], now: datetime) -> OutboxMessage:
        message = OutboxMessage(
            chat_id=chat_id, kind=kind, payload=payload, status=OutboxStatus.PENDING,
            attempts=0, created_at=now, next_attempt_at=now,
        )
        self.session.add(message)
        self.written += 1
        return message

    async def due(self, now: datetime, limit: int) -> list[OutboxMessage]:
        """On PostgreSQL, rows another sender is claiming right now are skipped, not waited for
        (one leader sends; this guards a second sender all the same). SQLite has no row locks."""
        rows = await self.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(rows)

    async def backlog(self, now: datetime) -> int:
        """Messages due and not yet sent: what the sender is behind by."""
        return int(await self.session.scalar(
            select(func.count()).select_from(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)) or 0)

    async def next_due_at(self) -> datetime | None:
        return await self.session.scalar(
            select(OutboxMessage.next_attempt_at)
            .where(OutboxMessage.status == OutboxStatus.PENDING)
            .order_by(OutboxMessage.next_attempt_at)
            .limit(1)
        )

    async def claim(self, message_id: int, now: datetime, lease: timedelta) -> bool:
        """Take a due message for one sender: another process (or this one after a crash) sees it
        again only when the lease has run out."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.PENDING,
                   OutboxMessage.next_attempt_at <= now)
            .values(next_attempt_at=now + lease)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def mark_sent(self, message_id: int, now: datetime, telegram_message_id: int | None) -> bool:
        result = await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.PENDING)
            .values(status=OutboxStatus.SENT, sent_at=now, telegram_message_id=telegram_message_id,
                    attempts=OutboxMessage.attempts + 1)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def retry_later(self, message_id: int, at: datetime, error: str) -> None:
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(next_attempt_at=at, last_error=error[:300], attempts=OutboxMessage.attempts + 1)
        )

    async def give_up(self, message_id: int, error: str) -> None:
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(status=OutboxStatus.DEAD, last_error=error[:300], attempts=OutboxMessage.attempts + 1)
        )

    async def drop_pending_for_chat(self, chat_id: int, error: str) -> None:
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.chat_id == chat_id, OutboxMessage.status == OutboxStatus.PENDING)
            .values(status=OutboxStatus.DEAD, last_error=error[:300])
        )

    @staticmethod
    def backoff(attempts: int) -> timedelta:
        return timedelta(seconds=min(300, 2 ** min(attempts, 8)))
