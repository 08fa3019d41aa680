"""Where aiogram keeps each chat's conversation state: in the database by default, in Redis when
one is configured. Never in memory: a half-filled form must survive a restart or a deploy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import (
    BaseEventIsolation,
    BaseStorage,
    DefaultKeyBuilder,
    KeyBuilder,
    StateType,
    StorageKey,
)
from aiogram.fsm.storage.redis import RedisStorage

from core.clock import Clock
from storage.db import Database


class DatabaseStorage(BaseStorage):
    """aiogram's FSM storage over the bot's own database (``conversation_states``)."""

    def __init__(self, db: Database, clock: Clock, key_builder: KeyBuilder | None = None) -> None:
        self.db = db
        self.clock = clock
        self.key_builder = key_builder or DefaultKeyBuilder(with_destiny=True)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        name = state.state if isinstance(state, State) else state
        await self._change(key, lambda _old, data: (name, data))

    async def get_state(self, key: StorageKey) -> str | None:
        async with self.db.read() as uow:
            state, _ = await uow.conversations.get(self.key_builder.build(key))
        return state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._change(key, lambda state, _old: (state, dict(data)))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self.db.read() as uow:
            _, data = await uow.conversations.get(self.key_builder.build(key))
        return data

    async def _change(self, key: StorageKey, change: Any) -> None:
        built = self.key_builder.build(key)
        async with self.db.write() as uow:
            state, data = change(*await uow.conversations.get(built))
            await uow.conversations.save(built, state, data, self.clock.now())
            await uow.commit()

    async def close(self) -> None:
        """The database belongs to the process, which closes it."""


CHAT_LOCK_SECONDS = 15


def fsm_storage(db: Database, clock: Clock, redis_url: str | None) -> BaseStorage:
    if redis_url:
        return RedisStorage.from_url(redis_url, key_builder=DefaultKeyBuilder(with_destiny=True))
    return DatabaseStorage(db, clock)


def events_isolation(storage: BaseStorage) -> BaseEventIsolation | None:
    """With Redis, the updates of one chat are handled one after another across instances: a lock per
    chat in the same Redis. Without it there is one process, and aiogram's defaults suffice."""
    if isinstance(storage, RedisStorage):
        # RedisEventIsolation on the storage's connection and keys. A lock left by a killed instance
        # frees after its timeout: aiogram's 60 s would stall that chat for a minute, while a handler
        # takes well under a second.
        return storage.create_isolation(lock_kwargs={"timeout": CHAT_LOCK_SECONDS})
    return None
