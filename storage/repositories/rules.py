from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import SystemRule


class RuleRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def all(self) -> dict[str, str]:
        rows = await self.session.execute(select(SystemRule.key, SystemRule.value))
        return {key: value for key, value in rows.all()}

    async def get(self, key: str) -> str | None:
        return await self.session.scalar(select(SystemRule.value).where(SystemRule.key == key))

    async def put_if_absent(self, key: str, value: str, now: datetime) -> None:
        """Seed a default; a parallel process seeding the same key is not an error."""
        try:
            async with self.session.begin_nested():
                self.session.add(SystemRule(key=key, value=value, updated_at=now, updated_by=None))
        except IntegrityError:
            pass

    async def put(self, key: str, value: str, now: datetime, by: int | None) -> None:
        rule = await self.session.get(SystemRule, key)
        if rule is None:
            self.session.add(SystemRule(key=key, value=value, updated_at=now, updated_by=by))
        else:
            rule.value, rule.updated_at, rule.updated_by = value, now, by
