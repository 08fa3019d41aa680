"""Setting up staff: whoever runs the bot learns their Telegram id from it (R24, R25)."""

from __future__ import annotations

import pytest

from tests.e2e.harness import BotProcess
from tests.fake_telegram.server import FakeTelegramServer

pytestmark = pytest.mark.e2e


async def test_id_tells_a_new_user_their_telegram_id_which_makes_them_moderator(
        fake_api: FakeTelegramServer, bot_process: BotProcess) -> None:
    admin = fake_api.user(7007, "Админ")
    await bot_process.start({"MODERATOR_IDS": ""})
    await admin.send("/id")
    told = await admin.expect("Ваш Telegram ID")
    assert "7007" in told.text
    await bot_process.restart({"MODERATOR_IDS": "7007"})
    await admin.send("/moderation")
    await admin.expect("проверк")
