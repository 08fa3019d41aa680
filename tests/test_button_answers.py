"""A button's answer is never cut (R17): Telegram shows at most 200 characters in an alert, so a
longer refusal is sent whole as a message and the answer points to it. Through a real aiogram
Dispatcher with the bot's own answer middlewares and a session that answers like Telegram."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import Bot, Dispatcher, Router
from aiogram.methods import AnswerCallbackQuery, SendMessage
from aiogram.types import CallbackQuery
from aiogram.utils.callback_answer import CallbackAnswer, CallbackAnswerMiddleware

from bot.handlers.errors import ALERT_LIMIT, AlertOnError, short_form
from bot.texts.errors import SEE_BELOW, error_text
from core.errors import CutoffPassed, OfferGone
from tests.fakes.session import RecordingSession
from tests.fakes.updates import callback_update

PHONE = "+7 (800) 100-10-01"
LONG_NOTE = "Запись сохранена. " * 15  # a handler's own answer, longer than an alert shows


def _dispatcher() -> Dispatcher:
    """The button middlewares as ``bot.dispatcher`` sets them, around handlers that refuse."""
    router = Router()

    @router.callback_query(lambda q: q.data == "cutoff")
    async def cutoff(query: CallbackQuery) -> None:
        raise CutoffPassed(datetime(2030, 1, 1, tzinfo=UTC), PHONE)

    @router.callback_query(lambda q: q.data == "gone")
    async def gone(query: CallbackQuery) -> None:
        raise OfferGone()

    @router.callback_query(lambda q: q.data == "note")
    async def note(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
        callback_answer.text, callback_answer.show_alert = LONG_NOTE, True

    @router.errors()
    async def swallow(event: object) -> None:
        """The bot's error handlers log; here the refusal itself is what is looked at."""

    dp = Dispatcher()
    dp.callback_query.middleware(CallbackAnswerMiddleware())
    dp.callback_query.middleware(AlertOnError())
    dp.include_router(router)
    return dp


async def _press(data: str) -> tuple[list[AnswerCallbackQuery], list[SendMessage]]:
    session = RecordingSession(strict=True)
    bot = Bot("123456:TEST", session=session)
    await _dispatcher().feed_update(bot, callback_update(7, data, message_id=1, bot=bot))
    answers = [c.method for c in session.calls if isinstance(c.method, AnswerCallbackQuery)]
    sent = [c.method for c in session.calls if isinstance(c.method, SendMessage)]
    return answers, sent


async def test_a_refusal_too_long_for_an_alert_is_sent_whole_as_a_message() -> None:
    refusal = error_text(CutoffPassed(datetime(2030, 1, 1, tzinfo=UTC), PHONE))
    assert len(refusal) > ALERT_LIMIT and refusal.endswith(f"{PHONE}.")  # the phone comes last
    answers, sent = await _press("cutoff")
    assert [m.text for m in sent] == [refusal]
    assert sent[0].chat_id == 7
    assert len(answers) == 1 and answers[0].show_alert
    assert answers[0].text == f"Отменить запись уже нельзя. {SEE_BELOW}"


async def test_a_short_refusal_stays_an_alert() -> None:
    answers, sent = await _press("gone")
    assert sent == []
    assert len(answers) == 1 and answers[0].text == error_text(OfferGone()) and answers[0].show_alert


async def test_a_handlers_own_long_answer_is_not_cut_either() -> None:
    answers, sent = await _press("note")
    assert [m.text for m in sent] == [LONG_NOTE]
    assert len(answers) == 1 and answers[0].text == f"Запись сохранена. {SEE_BELOW}"


def test_the_alert_keeps_the_first_clause_only_when_it_is_short() -> None:
    assert short_form("Нельзя: " + "очень " * 40) == f"Нельзя. {SEE_BELOW}"
    assert short_form("очень " * 40 + ". Конец.") == SEE_BELOW
