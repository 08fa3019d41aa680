"""Conversation state outlives the process: in the database by default, in Redis when one is set."""

from __future__ import annotations

import os

import pytest
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import BaseStorage, StorageKey
from aiogram.fsm.storage.redis import RedisStorage
from sqlalchemy import func, select

from bot.infra.fsm import DatabaseStorage, fsm_storage
from core.clock import FixedClock
from storage.db import Database
from storage.models import ConversationState

REDIS_URL = os.environ.get("TEST_REDIS_URL")


class Form(StatesGroup):
    name = State()
    birth = State()


def key(chat: int) -> StorageKey:
    return StorageKey(bot_id=1, chat_id=chat, user_id=chat)


async def rows(db: Database) -> int:
    async with db.read() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(ConversationState)) or 0)


async def walk_a_form(first: BaseStorage, second: BaseStorage) -> None:
    """What one process wrote, a new one (a restart) reads; another chat's state is its own."""
    await first.set_state(key(7), Form.name)
    await first.set_data(key(7), {"mode": "family"})
    await first.update_data(key(7), {"last": "Иванов", "born": "2015-03-05"})
    await first.set_state(key(7), Form.birth)
    await first.set_state(key(8), Form.name)

    assert await second.get_state(key(7)) == Form.birth.state
    assert await second.get_data(key(7)) == {"mode": "family", "last": "Иванов", "born": "2015-03-05"}
    assert await second.get_state(key(8)) == Form.name.state
    assert await second.get_data(key(8)) == {}

    await second.set_state(key(7), None)
    await second.set_data(key(7), {})
    assert await first.get_state(key(7)) is None and await first.get_data(key(7)) == {}


async def test_database_storage_survives_a_restart(db: Database, clock: FixedClock) -> None:
    await walk_a_form(DatabaseStorage(db, clock), DatabaseStorage(db, clock))
    assert await rows(db) == 1  # a finished conversation leaves no row; chat 8 is still in its form


async def test_redis_storage_when_a_redis_url_is_set(sqlite_db: Database, clock: FixedClock) -> None:
    if not REDIS_URL:
        pytest.skip("TEST_REDIS_URL is not set")
    first, second = fsm_storage(sqlite_db, clock, REDIS_URL), fsm_storage(sqlite_db, clock, REDIS_URL)
    assert isinstance(first, RedisStorage)
    try:
        await first.redis.flushdb()
        await walk_a_form(first, second)
    finally:
        await first.close()
        await second.close()
    assert await rows(sqlite_db) == 0


async def test_without_redis_the_database_keeps_it(sqlite_db: Database, clock: FixedClock) -> None:
    assert isinstance(fsm_storage(sqlite_db, clock, None), DatabaseStorage)
