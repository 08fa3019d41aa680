"""RecordingSession: a real Dispatcher.feed_update round trip without network, plus faults."""

from __future__ import annotations

import time

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter
from aiogram.filters import CommandStart
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from tests.fakes.session import RecordingSession
from tests.fakes.updates import callback_update, message_update

USER_ID = 1001
YES = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="Да", callback_data="yes")]])


def make_dispatcher() -> Dispatcher:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        await message.answer("Начнём?", reply_markup=YES)

    @router.message(F.text)
    async def echo(message: Message) -> None:
        sent = await message.answer(f"Эхо: {message.text}")
        assert isinstance(sent, Message) and sent.chat.id == message.chat.id

    @router.callback_query(F.data == "yes")
    async def yes(callback: CallbackQuery) -> None:
        await callback.answer("Принято")
        assert isinstance(callback.message, Message)
        await callback.message.edit_text("Вы нажали Да")

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    return dispatcher


@pytest.fixture
def session() -> RecordingSession:
    return RecordingSession()


@pytest.fixture
def bot(session: RecordingSession) -> Bot:
    return Bot("123456:TEST", session=session)


async def test_feed_update_round_trip(session: RecordingSession, bot: Bot) -> None:
    dispatcher = make_dispatcher()
    await dispatcher.feed_update(bot, message_update(USER_ID, "/start", bot=bot))
    await dispatcher.feed_update(bot, message_update(USER_ID, "привет", bot=bot))
    assert [call.name for call in session.calls] == ["sendMessage", "sendMessage"]
    assert session.calls[0].type_name == "SendMessage"
    assert session.calls[0].params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "yes"
    assert session.sent_texts(USER_ID) == ["Начнём?", "Эхо: привет"]

    update = callback_update(USER_ID, "yes", message_id=1, message_text="Начнём?", bot=bot)
    await dispatcher.feed_update(bot, update)
    assert [call.name for call in session.calls[2:]] == ["answerCallbackQuery", "editMessageText"]
    assert session.answered_queries[update.callback_query.id].text == "Принято"  # type: ignore[union-attr]


async def test_results_are_typed_like_telegram(session: RecordingSession, bot: Bot) -> None:
    first = await bot.send_message(USER_ID, "a")
    second = await bot.send_message(USER_ID, "b", reply_markup=YES)
    assert (first.message_id, second.message_id) == (1, 2)
    assert second.reply_markup == YES and second.from_user is not None and second.from_user.is_bot
    assert (await bot.send_message(2002, "c")).message_id == 1  # ids are per chat
    edited = await bot.edit_message_text("b2", chat_id=USER_ID, message_id=2)
    assert isinstance(edited, Message) and edited.text == "b2" and edited.edit_date is not None
    document = await bot.send_document(USER_ID, BufferedInputFile(b"ics", "visit.ics"))
    assert document.document is not None and document.document.file_name == "visit.ics"
    assert session.documents[-1].data == b"ics"
    assert await bot.delete_message(USER_ID, 1) is True
    assert await bot.send_chat_action(USER_ID, "typing") is True
    assert await bot.get_my_commands() == []
    assert (await bot.get_me()).id == 123456


async def test_faults_raise_what_the_real_session_raises(session: RecordingSession, bot: Bot) -> None:
    session.fail_next("sendMessage", 429, retry_after=2, chat_id=USER_ID)
    await bot.send_message(2002, "other chat")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(USER_ID, "hi")
    assert caught.value.retry_after == 2
    await bot.send_message(USER_ID, "hi")

    session.block(USER_ID)
    with pytest.raises(TelegramForbiddenError, match="blocked"):
        await bot.send_message(USER_ID, "hi")
    session.unblock(USER_ID)

    sent = await bot.send_message(USER_ID, "same", reply_markup=YES)
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("same", chat_id=USER_ID, message_id=sent.message_id, reply_markup=YES)
    await bot.answer_callback_query("q1")
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query("q1")


async def test_handler_errors_propagate_through_feed_update(session: RecordingSession, bot: Bot) -> None:
    dispatcher = make_dispatcher()
    session.fail_next("sendMessage", 429, retry_after=1)
    with pytest.raises(TelegramRetryAfter):
        await dispatcher.feed_update(bot, message_update(USER_ID, "привет", bot=bot))
    await dispatcher.feed_update(bot, message_update(USER_ID, "привет", bot=bot))
    assert session.sent_texts() == ["Эхо: привет", "Эхо: привет"]  # the failed attempt is recorded too


async def test_strict_mode_validates_html_and_callback_data() -> None:
    bot = Bot("123456:TEST", session=RecordingSession(strict=True))
    await bot.send_message(USER_ID, "<b>ok</b>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(USER_ID, "<b>broken", parse_mode="HTML")
    too_long = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="я" * 33)]])
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(USER_ID, "x", reply_markup=too_long)


async def test_throughput_without_recording() -> None:
    session = RecordingSession(record=False)
    bot = Bot("123456:TEST", session=session)
    dispatcher = make_dispatcher()
    updates = [message_update(USER_ID + i % 50, f"m{i}", bot=bot) for i in range(500)]
    started = time.perf_counter()
    for update in updates:
        await dispatcher.feed_update(bot, update)
    elapsed = time.perf_counter() - started
    assert session.count == 500 and session.calls == []
    assert elapsed < 5.0  # loose: ~0.2 s on this machine; catches an accidental slow path
