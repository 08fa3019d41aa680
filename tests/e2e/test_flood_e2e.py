"""Flood control (issue 17): one chat flooding the bot gets one calm answer, then silence, and another
patient's steps are answered meanwhile as usual."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.texts.common import TOO_MANY_REQUESTS
from storage.db import Database
from tests.e2e import world
from tests.e2e.harness import BotProcess
from tests.fake_telegram.server import FakeTelegramServer

pytestmark = pytest.mark.e2e


async def test_a_flooding_chat_is_calmed_and_others_are_served(fake_api: FakeTelegramServer, bot_process: BotProcess,
                                                               bot_db: Database) -> None:
    mallory, _ = await world.logged_in(bot_db, bot_process, 8001, "Мэллори")
    anna, _ = await world.logged_in(bot_db, bot_process, 8002, "Анна")
    await bot_process.start({"RATE_LIMIT_PER_MINUTE": "5"})
    for _ in range(40):
        await mallory.send("/menu")
    started = time.monotonic()
    await anna.send("Запись к врачу")
    await anna.expect("Выберите специальность")
    await anna.press("Терапевт")
    await anna.expect("Выберите врача")
    assert time.monotonic() - started < 3
    await asyncio.sleep(1)
    said = [m.text for m in mallory.messages]
    assert said.count(TOO_MANY_REQUESTS) == 1
    assert sum("Главное меню" in text for text in said) <= 6  # the burst, and what refilled meanwhile
    assert "Traceback" not in bot_process.log_text()
