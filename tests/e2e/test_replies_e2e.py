"""Replies that Telegram refuses for a moment (429, issue 17): the bot waits ``retry_after`` and tells
the patient the outcome anyway; nothing says «Что-то пошло не так»."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from bot.texts.common import SOMETHING_WRONG
from storage.db import Database
from storage.models import Appointment
from tests.e2e import world
from tests.e2e.harness import BotProcess
from tests.e2e.test_booking_e2e import to_summary
from tests.fake_telegram.errors import QUERY_TOO_OLD
from tests.fake_telegram.server import FakeTelegramServer

pytestmark = pytest.mark.e2e


async def booked_here(db: Database) -> int:
    async with db.read() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(Appointment).where(
            Appointment.made_by_account_id.is_not(None))) or 0)


@pytest.mark.parametrize("method", ["answerCallbackQuery", "editMessageText"])
async def test_a_booking_is_told_after_a_429(fake_api: FakeTelegramServer, bot_process: BotProcess,
                                             bot_db: Database, method: str) -> None:
    anna, _ = await world.logged_in(bot_db, bot_process, 7001, "Анна")
    await bot_process.start()
    await to_summary(anna, bot_process)
    fake_api.fail_next(method, 429, retry_after=1, chat_id=None)
    started = time.monotonic()
    answer = await anna.press("Подтвердить", timeout=10)
    assert not answer.show_alert and answer.text != SOMETHING_WRONG
    await anna.expect("Вы записаны", timeout=10)
    assert time.monotonic() - started >= 1.0  # it waited as Telegram asked
    assert len(fake_api.calls_to("answerCallbackQuery")) >= 1
    assert await booked_here(bot_db) == 1
    assert "Traceback" not in bot_process.log_text()


async def test_confirm_pressed_twice_answers_booked_twice(fake_api: FakeTelegramServer, bot_process: BotProcess,
                                                          bot_db: Database) -> None:
    """Issue 17: «Подтвердить» pressed again (a double tap, a redelivered update) answers «Вы записаны»
    again, never «уже занято» about the patient's own booking; one booking is stored."""
    anna, _ = await world.logged_in(bot_db, bot_process, 7002, "Анна")
    await bot_process.start()
    await to_summary(anna, bot_process)
    summary = anna.last_message
    assert summary is not None
    confirm = next(b["callback_data"] for b in summary.all_buttons() if b["text"] == "Подтвердить")
    first = await anna.press_raw(confirm, summary)
    await anna.expect("Вы записаны")
    second = await anna.press_raw(confirm, summary)
    for answer in (first, second):
        assert not answer.show_alert and "Вы записаны" in (answer.text or ""), answer
    assert "Вы записаны" in summary.text  # the screen still tells it
    assert await booked_here(bot_db) == 1
    assert "Traceback" not in bot_process.log_text()


async def test_a_late_answer_refused_by_telegram_is_no_crash(fake_api: FakeTelegramServer, bot_process: BotProcess,
                                                             bot_db: Database) -> None:
    """Issue 17: Telegram refuses the press's answer («query is too old»): the booking is still shown, the
    answer is not tried again, and nothing crashes."""
    anna, _ = await world.logged_in(bot_db, bot_process, 7003, "Анна")
    await bot_process.start()
    await to_summary(anna, bot_process)
    before = len(fake_api.calls_to("answerCallbackQuery"))
    fake_api.fail_next("answerCallbackQuery", 400, QUERY_TOO_OLD)
    await anna.press("Подтвердить", require_answer=False, timeout=2)
    await anna.expect("Вы записаны")
    await anna.expect_no_message(within=0.5)
    assert len(fake_api.calls_to("answerCallbackQuery")) == before + 1
    assert await booked_here(bot_db) == 1
    log = bot_process.log_text()
    assert "Traceback" not in log and "unhandled error" not in log
