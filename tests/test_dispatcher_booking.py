"""Booking screens through the real aiogram Dispatcher, in process, with a session that answers like
Telegram (R6): double taps and stale buttons are harmless."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiogram import Bot
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.methods import SendMessage

from bot.config import Settings
from bot.container import build_container
from bot.dispatcher import ROUTERS, build_dispatcher
from bot.filters import ButtonsOf
from bot.keyboards.callbacks import BookCb, BookStep
from bot.texts.common import SOMETHING_WRONG
from core.clock import SystemClock
from storage.db import Database
from tests import factories
from tests.fakes.session import RecordingSession
from tests.fakes.updates import callback_update


async def test_double_tap_on_a_doctor_is_harmless(sqlite_db: Database) -> None:
    now = datetime.now(UTC)
    _, (doctor,) = await factories.clinic(sqlite_db)
    await factories.slots(sqlite_db, doctor, now + timedelta(days=2), 5)
    _, (patient,) = await factories.account(sqlite_db, 7, now)
    settings = Settings(bot_token="123456:TEST", consent_policy_version=factories.CONSENT)  # type: ignore[arg-type]
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
    assert len(session.answered_queries) == 2


def test_no_filter_of_the_bot_runs_in_a_worker_thread() -> None:
    """aiogram runs a plain callable filter (``F.text == …`` is one) in a worker thread: a thread
    round trip for every handler tried on every update. Every filter of the bot is awaited in place."""
    checked = 0
    for router in ROUTERS:
        for name, observer in router.observers.items():
            for handler in observer.handlers:
                for event_filter in handler.filters or ():
                    assert event_filter.awaitable, f"{router.name} {name}: {event_filter.callback!r}"
                    checked += 1
            for event_filter in observer._handler.filters or ():  # the router's own, tried first
                assert event_filter.awaitable, f"{router.name} {name}: {event_filter.callback!r}"
    assert checked > 40


def test_every_button_handler_is_reached_through_its_router_filter() -> None:
    """A router lets through only the buttons it names (``ButtonsOf``): each of its handlers must
    look at buttons of those kinds, or it could never run."""
    seen = 0
    for router in ROUTERS:
        observer = router.callback_query
        gates = [f.callback for f in observer._handler.filters or () if isinstance(f.callback, ButtonsOf)]
        for handler in observer.handlers:
            kinds = [f.callback.callback_data for f in handler.filters or ()
                     if isinstance(f.callback, CallbackQueryFilter)]
            if not gates:
                continue  # the fallback: any button nobody claimed
            assert kinds, f"{router.name}: a handler that looks at no kind of button"
            for kind in kinds:
                prefix = kind.__prefix__ + kind.__separator__
                assert any(prefix in gate.prefixes for gate in gates), f"{router.name}: {kind.__name__} is kept out"
                seen += 1
    assert seen > 30
