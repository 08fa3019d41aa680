"""Forged buttons (issue 17): callback data is client input, refused by its types and ranges before any
handler runs; the press is answered once with «Эта кнопка устарела», nothing crashes, nothing changes."""

from __future__ import annotations

import pytest

from bot.texts.common import STALE_BUTTON
from storage.db import Database
from tests.e2e import world
from tests.e2e.harness import BotProcess
from tests.fake_telegram.server import FakeTelegramServer

pytestmark = pytest.mark.e2e

FORGED = [
    "vi:x:99999999999999999999:0:0:0",  # an id past any database integer
    "vi:a:-5:0:0:0",  # a negative id
    "bk:t:1:1:1:20261399:0:0",  # a day that is no date
    "bk:t:1:1:1:99991231:0:0",  # a date beyond any horizon
    "bk:d:1:1:1:0:0:1000",  # a page past any list
    "of:c:1e9",  # not an integer at all
    "q:cd:1:2:3:4:5",  # too many fields
    "pf:sx:" + "x" * 50,  # a value no button carries
]


@pytest.mark.parametrize("data", FORGED)
async def test_a_forged_button_is_refused_before_any_handler(fake_api: FakeTelegramServer, bot_process: BotProcess,
                                                             bot_db: Database, data: str) -> None:
    mallory, _ = await world.logged_in(bot_db, bot_process, 6001, "Мэллори")
    await bot_process.start()
    await mallory.send("/menu")
    await mallory.expect("Главное меню")
    answer = await mallory.press_raw(data)
    assert answer.show_alert and answer.text == STALE_BUTTON
    await mallory.expect_no_message(within=0.5)
    assert len(fake_api.calls_to("answerCallbackQuery")) == 1
    assert "Traceback" not in bot_process.log_text()
