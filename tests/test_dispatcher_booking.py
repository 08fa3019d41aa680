"""Booking screens through the real aiogram Dispatcher, in process, with a session that answers like
Telegram (R6): double taps and stale buttons are harmless."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiogram import Bot, Dispatcher
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.filters import Command, CommandStart, Filter
from aiogram.filters.callback_data import CallbackData, CallbackQueryFilter
from aiogram.methods import SendMessage
from aiogram.types import CallbackQuery, Message

from bot.config import Settings
from bot.container import build_container
from bot.dispatcher import ROUTERS, build_dispatcher
from bot.filters import Cmd, CmdStart
from bot.keyboards.callbacks import BookCb, BookStep
from bot.routing import ConversationRouter
from bot.texts.common import SOMETHING_WRONG
from core.clock import SystemClock
from storage.db import Database
from tests import factories
from tests.fakes.session import RecordingSession
from tests.fakes.updates import callback_update, message_update


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


def test_every_button_handler_is_reached_through_its_router_gate() -> None:
    """A router lets through only the buttons it names (``ConversationRouter.buttons``): each of its
    handlers must look at buttons of those kinds, or it could never run."""
    seen = 0
    for router in ROUTERS:
        for handler in router.callback_query.handlers:
            kinds = [f.callback.callback_data for f in handler.filters or ()
                     if isinstance(f.callback, CallbackQueryFilter)]
            if router.buttons is None:
                continue  # the fallback: any button nobody claimed
            assert kinds, f"{router.name}: a handler that looks at no kind of button"
            for kind in kinds:
                prefix = kind.__prefix__ + kind.__separator__
                assert prefix in router.buttons, f"{router.name}: {kind.__name__} is kept out"
                seen += 1
    assert seen > 30


class _Mine(CallbackData, prefix="mine"):
    n: int


class _Theirs(CallbackData, prefix="theirs"):
    n: int


class _Tried(Filter):
    """Notes every update it is asked about and lets it through."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def __call__(self, event: CallbackQuery | Message) -> bool:
        self.seen.append((event.data if isinstance(event, CallbackQuery) else event.text) or "")
        return True


async def test_a_router_turns_away_buttons_and_updates_it_has_no_handler_for() -> None:
    """A button of another kind, or a message to a router with no message handler, is not offered to
    this router's filters at all; a button of its own kind is, and its handler runs."""
    router = ConversationRouter(name="test")
    tried = _Tried()
    router.message.filter(tried)  # a router-wide filter: asked before any handler would be

    @router.callback_query(tried, _Mine.filter())
    async def mine(query: CallbackQuery, callback_data: _Mine) -> str:
        return f"handled {callback_data.n}"

    dp = Dispatcher()
    dp.include_router(router)
    router.buttons = (_Mine.__prefix__ + _Mine.__separator__,)
    bot = Bot("123456:TEST", session=RecordingSession())
    theirs = callback_update(7, _Theirs(n=1).pack(), message_id=1, bot=bot)
    assert await dp.feed_update(bot, theirs) is UNHANDLED
    assert await dp.feed_update(bot, message_update(7, "Запись к врачу", bot=bot)) is UNHANDLED
    assert tried.seen == []
    assert await dp.feed_update(bot, callback_update(7, _Mine(n=2).pack(), message_id=1, bot=bot)) == "handled 2"
    assert tried.seen == ["mine:2"]


async def test_command_filters_turn_away_what_aiogrammes_would_and_nothing_else() -> None:
    """Handlers use ``Cmd`` / ``CmdStart`` (``bot.filters``): what is no command is turned away before
    aiogram parses it; everything else must come out as aiogram's own filters say."""
    bot = Bot("123456:TEST", session=RecordingSession(record=False))
    texts = ["/book", "/book@test_bot", "/book@other_bot", "/BOOK", "  /book now", "/booking", "!book", "book",
             "Запись к врачу", "", "/start", "/start payload", "/start@test_bot", "/"]
    pairs = [(Cmd("book"), Command("book")), (Cmd("book", ignore_case=True), Command("book", ignore_case=True)),
             (Cmd("book", prefix="/!"), Command("book", prefix="/!")), (CmdStart(), CommandStart())]
    matched = 0
    for text in texts:
        message = message_update(1, text, bot=bot).message
        assert message is not None
        as_caption = message.model_copy(update={"text": None, "caption": text or None})  # a photo's caption
        for ours, theirs in pairs:
            assert await ours(as_caption, bot) == await theirs(as_caption, bot), (text, "caption")
            expected = await theirs(message, bot)
            assert await ours(message, bot) == expected, (text, str(theirs))
            matched += bool(expected)
    assert matched >= 8  # the commands themselves do match
