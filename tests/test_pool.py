"""The bot's database pool keeps a connection for every update it works on at once."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import event, select

from bot.config import Settings
from storage import migrate
from storage.db import Database, pool_size_for
from storage.models import TelegramUser


async def _connections_opened_by_bursts(db: Database, at_once: int, bursts: int) -> list[int]:
    """Per burst of ``at_once`` reads held open together: how many new connections it opened."""
    opened = 0

    def on_connect(*_: object) -> None:
        nonlocal opened
        opened += 1

    event.listen(db.engine.sync_engine, "connect", on_connect)
    counts = []
    for _ in range(bursts):
        before = opened
        barrier = asyncio.Barrier(at_once)

        async def read(barrier: asyncio.Barrier) -> None:
            async with db.read() as uow:
                await uow.session.scalar(select(TelegramUser.id).limit(1))
                await barrier.wait()  # every read holds its connection at the same moment

        await asyncio.gather(*(read(barrier) for _ in range(at_once)))
        counts.append(opened - before)
    return counts


async def test_a_busy_moment_again_opens_no_connection(tmp_path: Path) -> None:
    """The bot's default: as many updates at once as it allows open their connections once; the next
    burst reuses them instead of opening (a thread and the PRAGMAs on SQLite) and closing them again."""
    at_once = Settings(bot_token="123456:TEST").concurrent_updates  # type: ignore[arg-type]
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'pool.sqlite3'}", pool_size=pool_size_for(at_once))
    await migrate.upgrade(db.engine)
    try:
        first, second, third = await _connections_opened_by_bursts(db, at_once, bursts=3)
    finally:
        await db.dispose()
    assert first <= at_once
    assert second == third == 0


async def test_a_pool_smaller_than_the_burst_churns(tmp_path: Path) -> None:
    """What the sizing avoids: connections beyond the pool are closed on return and opened again."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'pool.sqlite3'}", pool_size=4)
    await migrate.upgrade(db.engine)
    try:
        counts = await _connections_opened_by_bursts(db, 8, bursts=3)
    finally:
        await db.dispose()
    assert counts[1] == counts[2] == 4
