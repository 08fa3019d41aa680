"""Booking screens through the real aiogram Dispatcher, in process, with a session that answers like
Telegram (R6): double taps and stale buttons are harmless, and every press is answered once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiogram import Bot
from aiogram.methods import AnswerCallbackQuery, SendMessage

from bot.config import Settings
from bot.container import build_container
from bot.dispatcher import build_dispatcher
from bot.keyboards.callbacks import BookCb, BookStep, VisitAction, VisitCb
from bot.texts.common import SOMETHING_WRONG
from bot.texts.errors import error_text
from core.clock import SystemClock
from core.errors import NotAllowed, NotFound, NotLoggedIn
from storage.db import Database
from tests import factories
from tests.fakes.session import RecordingSession
from tests.fakes.updates import callback_update, message_update


def _answers(session: RecordingSession) -> list[AnswerCallbackQuery]:
    return [c.method for c in session.calls if isinstance(c.method, AnswerCallbackQuery)]


async def test_double_tap_on_a_doctor_is_harmless(sqlite_db: Database) -> None:
    now = datetime.now(UTC)
    _, (doctor,) = await factories.clinic(sqlite_db)
    await factories.slots(sqlite_db, doctor, now + timedelta(days=2), 5)
    _, (patient,) = await factories.account(sqlite_db, 7, now)
    settings = Settings(bot_token="123456:TEST", consent_policy_version=factories.CONSENT)  # type: ignore[arg-type]
    # The routers are module-level and join one Dispatcher per process: this test is the one that builds it.
    dp = build_dispatcher(build_container(settings, sqlite_db, SystemClock()))
    session = RecordingSession()
    bot = Bot("123456:TEST", session=session)
    data = BookCb(step=BookStep.DOCTOR, patient_id=patient.id, specialty_id=doctor.specialty_id,
                  doctor_id=doctor.id).pack()
    for _ in range(2):  # the second tap renders the same screen: Telegram says «not modified»
        await dp.feed_update(bot, callback_update(7, data, message_id=1, bot=bot))
    edits = session.calls_to("editMessageText")
    assert len(edits) == 2 and "Выберите дату" in str(edits[0].method.text)
    sent = [c.method.text for c in session.calls if isinstance(c.method, SendMessage)]
    assert SOMETHING_WRONG not in sent
    answers = _answers(session)
    assert len(answers) == 2 and not any(a.show_alert for a in answers)  # each press once, quietly

    # A press its handler refuses (someone else's appointment) is answered once, with the reason as an alert.
    await factories.account(sqlite_db, 8, now)
    forged = VisitCb(action=VisitAction.ASK, appointment_id=99_999).pack()
    await dp.feed_update(bot, callback_update(8, forged, message_id=1, bot=bot))
    refused = _answers(session)[2:]
    assert len(refused) == 1 and refused[0].show_alert
    assert refused[0].text in (error_text(NotAllowed()), error_text(NotFound()))
    # A command its handler refuses is told the reason in a message.
    await dp.feed_update(bot, message_update(9, "/book", bot=bot))
    assert len(_answers(session)) == 3
    last = session.calls[-1].method
    assert isinstance(last, SendMessage) and last.text == error_text(NotLoggedIn())
