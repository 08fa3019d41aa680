"""A button press is answered once, whatever its handler did before failing (issue 17), through a real
aiogram Dispatcher with the bot's own middlewares and a session that refuses a second answer like Telegram."""

from __future__ import annotations

import logging

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.methods import AnswerCallbackQuery
from aiogram.types import CallbackQuery
from aiogram.utils.callback_answer import CallbackAnswer

from bot.handlers.errors import AlertOnError, AnswerOnce
from bot.infra.telegram_retry import InUpdate, RetryReplies
from core.errors import NotFound
from tests.fake_telegram.errors import QUERY_TOO_OLD
from tests.fakes.session import RecordingSession
from tests.fakes.updates import callback_update


class Failure(Exception):
    pass


def dispatcher() -> Dispatcher:
    """The bot's button middlewares (bot/dispatcher.py) around handlers of this test's own."""
    router = Router()

    @router.callback_query(F.data == "answered-then-fails")
    async def answered_then_fails(query: CallbackQuery) -> None:
        await query.answer("Готово")
        raise Failure()

    @router.callback_query(F.data == "refused")
    async def refused(query: CallbackQuery) -> None:
        raise NotFound()

    @router.callback_query(F.data == "fine")
    async def fine(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
        callback_answer.text = "Сохранено"

    dp = Dispatcher()
    dp.update.outer_middleware(InUpdate())
    dp.callback_query.middleware(AnswerOnce())
    dp.callback_query.middleware(AlertOnError())
    dp.include_router(router)
    return dp


def bot_with(session: RecordingSession) -> Bot:
    bot = Bot("123456:TEST", session=session)
    bot.session.middleware(RetryReplies())
    return bot


def answers(session: RecordingSession) -> list[AnswerCallbackQuery]:
    return [c.method for c in session.calls if isinstance(c.method, AnswerCallbackQuery)]


async def test_a_handler_that_answered_and_then_failed_is_answered_once() -> None:
    session = RecordingSession()
    bot = bot_with(session)
    with pytest.raises(Failure):  # the handler's own error reaches the error handlers, not Telegram's refusal
        await dispatcher().feed_update(bot, callback_update(7, "answered-then-fails", message_id=1, bot=bot))
    (only,) = answers(session)
    assert only.text == "Готово" and not only.show_alert


async def test_an_answer_refused_as_too_old_is_no_error(caplog: pytest.LogCaptureFixture) -> None:
    """A handler slower than Telegram waits: the late answer is refused; the handler's work stands."""
    session = RecordingSession()
    bot = bot_with(session)
    dp = dispatcher()
    session.fail_next("answerCallbackQuery", 400, QUERY_TOO_OLD)
    with caplog.at_level(logging.WARNING):
        await dp.feed_update(bot, callback_update(7, "fine", message_id=1, bot=bot))
    assert "query is too old" in caplog.text
    # A refused press whose answer is also refused: the domain error goes on, not the refusal.
    session.fail_next("answerCallbackQuery", 400, QUERY_TOO_OLD)
    with pytest.raises(NotFound):
        await dp.feed_update(bot, callback_update(7, "refused", message_id=1, bot=bot))
    assert len(answers(session)) == 2


async def test_a_refused_press_is_answered_once_with_the_reason() -> None:
    session = RecordingSession()
    bot = bot_with(session)
    with pytest.raises(NotFound):
        await dispatcher().feed_update(bot, callback_update(7, "refused", message_id=1, bot=bot))
    (only,) = answers(session)
    assert only.show_alert and only.text
