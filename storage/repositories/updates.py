"""Claims on Telegram updates (``processed_updates``): one instance acts on each update_id."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedUpdate


class Claim(enum.Enum):
    TAKEN = "taken"  # this instance handles the update now
    DONE = "done"  # it was handled already: a redelivery
    BUSY = "busy"  # another instance is handling it (its claim is fresh)


class ProcessedUpdateRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, update_id: int, instance: str, now: datetime, lease: timedelta) -> Claim:
        """Insert the claim; if there is one, take it over only when it is unfinished and its holder
        has not renewed it within ``lease`` (the holder died)."""
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        inserted = await self.session.execute(
            insert(ProcessedUpdate).values(update_id=update_id, instance=instance, claimed_at=now)
            .on_conflict_do_nothing(index_elements=[ProcessedUpdate.update_id]))
        if inserted.rowcount == 1:  # type: ignore[attr-defined]
            return Claim.TAKEN
        taken_over = await self.session.execute(
            update(ProcessedUpdate)
            .where(ProcessedUpdate.update_id == update_id, ProcessedUpdate.done_at.is_(None),
                   ProcessedUpdate.claimed_at < now - lease)
            .values(instance=instance, claimed_at=now))
        if taken_over.rowcount == 1:  # type: ignore[attr-defined]
            return Claim.TAKEN
        done_at = await self.session.scalar(
            select(ProcessedUpdate.done_at).where(ProcessedUpdate.update_id == update_id))
        return Claim.BUSY if done_at is None else Claim.DONE

    async def renew(self, update_id: int, instance: str, now: datetime) -> None:
        await self.session.execute(
            update(ProcessedUpdate)
            .where(ProcessedUpdate.update_id == update_id, ProcessedUpdate.instance == instance,
                   ProcessedUpdate.done_at.is_(None))
            .values(claimed_at=now))

    async def finish(self, update_id: int, instance: str, now: datetime) -> None:
        await self.session.execute(
            update(ProcessedUpdate)
            .where(ProcessedUpdate.update_id == update_id, ProcessedUpdate.instance == instance)
            .values(done_at=now))

    async def release(self, update_id: int, instance: str) -> None:
        """Give an unfinished update back (the instance stops before it is done): a redelivery may act."""
        await self.session.execute(
            delete(ProcessedUpdate)
            .where(ProcessedUpdate.update_id == update_id, ProcessedUpdate.instance == instance,
                   ProcessedUpdate.done_at.is_(None)))

    async def forget_before(self, cutoff: datetime) -> int:
        result = await self.session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.claimed_at < cutoff))
        return int(result.rowcount)  # type: ignore[attr-defined]
