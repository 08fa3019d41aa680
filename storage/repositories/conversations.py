"""Conversation state of each chat (the FSM's state and form data), one row a key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ConversationState


class ConversationRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, key: str) -> tuple[str | None, dict[str, Any]]:
        row = (await self.session.execute(
            select(ConversationState.state, ConversationState.data).where(ConversationState.key == key))).first()
        return (None, {}) if row is None else (row.state, dict(row.data))

    async def save(self, key: str, state: str | None, data: dict[str, Any], now: datetime) -> None:
        """An upsert, so two updates of one chat on two connections cannot both insert the row.
        No state and no data is no row: nothing is kept of a finished conversation."""
        if state is None and not data:
            await self.session.execute(delete(ConversationState).where(ConversationState.key == key))
            return
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = insert(ConversationState).values(key=key, state=state, data=data, updated_at=now)
        await self.session.execute(stmt.on_conflict_do_update(
            index_elements=[ConversationState.key], set_={"state": state, "data": data, "updated_at": now}))
