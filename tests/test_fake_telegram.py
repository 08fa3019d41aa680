"""The fake Telegram Bot API behaves like Telegram for a real aiogram Bot over HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.filters import CommandStart
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from tests.fake_telegram import FakeTelegramServer, max_in_window

USER_ID = 1001


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as fake:
        yield fake


@pytest.fixture
async def bot(server: FakeTelegramServer) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(server.base_url))
    async with Bot(server.token, session=session) as real_bot:
        yield real_bot


def keyboard(*rows: list[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=list(rows))


def echo_router() -> Router:
    """A tiny bot: /start shows two buttons, «Да» answers and edits, text is echoed."""
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        assert message.from_user is not None
        await message.answer(
            f"Привет, <b>{message.from_user.first_name}</b>!",
            parse_mode="HTML",
            reply_markup=keyboard(
                [InlineKeyboardButton(text="Да", callback_data="yes")],
                [InlineKeyboardButton(text="Сайт", url="https://example.test/")],
            ),
        )

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(f"Эхо: {message.text}")

    @router.callback_query(F.data == "yes")
    async def yes(callback: CallbackQuery) -> None:
        await callback.answer("Принято")
        assert isinstance(callback.message, Message)
        await callback.message.edit_text("Вы нажали Да")

    return router


@pytest.fixture
async def polling(server: FakeTelegramServer, bot: Bot) -> AsyncIterator[Dispatcher]:
    """The echo bot polling the fake server in this event loop."""
    dispatcher = Dispatcher()
    dispatcher.include_router(echo_router())
    task = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False, polling_timeout=5)
    )
    await server.wait_for_call("getUpdates")
    try:
        yield dispatcher
    finally:
        await dispatcher.stop_polling()
        await task


# ---- getUpdates --------------------------------------------------------------------------


async def test_get_updates_offset_confirms_and_long_poll_returns_on_arrival(
    server: FakeTelegramServer, bot: Bot
) -> None:
    anna = server.user(USER_ID, "Анна")
    await anna.send("раз")
    await anna.send("два")
    first = await bot.get_updates(timeout=0)
    assert [u.message.text for u in first if u.message] == ["раз", "два"]
    # Not confirmed yet: the same updates again.
    assert [u.update_id for u in await bot.get_updates(timeout=0)] == [u.update_id for u in first]
    # offset confirms everything below it.
    offset = first[-1].update_id + 1
    assert await bot.get_updates(offset=offset, timeout=0) == []

    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(offset=offset, timeout=5))
    await asyncio.sleep(0.2)
    assert not poll.done()  # waiting for an update
    await anna.send("три")
    updates = await asyncio.wait_for(poll, 2)
    assert [u.message.text for u in updates if u.message] == ["три"]
    assert time.monotonic() - started < 1.5
    assert server.state.delivered_updates[-1]["update_id"] == offset - 1


async def test_get_updates_times_out_empty(server: FakeTelegramServer, bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == []
    assert 0.9 <= time.monotonic() - started < 1.8


async def test_second_poller_terminates_the_first_with_conflict(server: FakeTelegramServer, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await server.wait_for_call("getUpdates")
    second = asyncio.create_task(bot.get_updates(timeout=5))
    with pytest.raises(TelegramConflictError):
        await asyncio.wait_for(first, 2)
    await server.user(USER_ID).send("привет")
    assert len(await asyncio.wait_for(second, 2)) == 1


# ---- a scripted user with a polling bot --------------------------------------------------


async def test_user_sends_presses_and_sees_the_edit(server: FakeTelegramServer, polling: Dispatcher) -> None:
    anna = server.user(USER_ID, "Анна")
    await anna.send("/start")
    greeting = await anna.expect("Привет, Анна!")  # visible text: tags stripped
    assert greeting.raw_text == "Привет, <b>Анна</b>!"
    assert greeting.entities == [{"type": "bold", "offset": 8, "length": 4}]
    assert greeting.buttons == [["Да"], ["Сайт"]]
    assert anna.url_button("Сайт") == "https://example.test/"
    with pytest.raises(AssertionError, match="URL button"):
        await anna.press("Сайт")

    answer = await anna.press("Да")
    assert answer.text == "Принято" and not answer.show_alert
    edited = await anna.expect("Вы нажали Да")
    assert edited is greeting  # the same message, edited in place
    assert edited.edited and edited.history == ["Привет, Анна!", "Вы нажали Да"]
    assert edited.buttons == []  # editMessageText without reply_markup drops the keyboard

    await anna.send("/start")
    await anna.expect("Привет")
    await anna.send("как дела")
    echo = await anna.expect("Эхо: как дела")
    assert anna.last_message is echo
    assert [m.text for m in anna.messages][-1] == "Эхо: как дела"
    server.assert_healthy()


async def test_failures_explain_what_the_bot_said(server: FakeTelegramServer, polling: Dispatcher) -> None:
    anna = server.user(USER_ID, "Анна")
    await anna.send("/start")
    with pytest.raises(AssertionError, match=r"(?s)expected the bot to say 'Пока'.*Привет, Анна!"):
        await anna.expect("Пока", timeout=0.3)
    with pytest.raises(AssertionError, match=r"(?s)no button matching 'Нет'.*\['Да'\]"):
        await anna.press("Нет")
    await anna.send("эхо")
    with pytest.raises(AssertionError, match="expected silence"):
        await anna.expect_no_message(within=1.0)
    # What expect() already returned is not "unexpected".
    await anna.send("ещё")
    await anna.expect("Эхо: ещё")
    await anna.expect_no_message(within=0.2)
    # A forged callback nobody handles: never answered.
    unanswered = await anna.press_raw("forged:1", timeout=0.3, require_answer=False)
    assert not unanswered.answered
    with pytest.raises(AssertionError, match="did not answer the callback query"):
        await anna.press_raw("forged:2", timeout=0.3)


async def test_many_users_wait_on_their_own_chat_and_see_when_the_bot_answered(
    server: FakeTelegramServer, polling: Dispatcher
) -> None:
    """Load generators press without waiting and wake only for their own chat; each bot message
    and callback answer carries the moment it reached the fake API."""
    anna, boris = server.user(USER_ID, "Анна"), server.user(USER_ID + 1, "Борис")
    await anna.send("/start")
    greeting = await anna.expect("Привет")
    await boris.send("/start")
    await boris.expect("Привет")

    boris_woke = asyncio.create_task(boris.changed.wait(1.0))
    pressed = time.monotonic()
    query = anna.click(greeting.all_buttons()[0]["callback_data"], greeting)
    assert query.answer is None  # returned at once, before the bot saw the update
    assert await anna.changed.wait_until(
        lambda: query.answer is not None and any("Вы нажали" in e.text for e in anna.events_since_last_action()),
        2.0,
    )
    edit = next(e for e in anna.events_since_last_action() if "Вы нажали" in e.text)
    assert query.answered_at is not None and pressed < query.answered_at <= time.monotonic()
    assert pressed < edit.at <= time.monotonic()
    assert not await boris_woke  # nothing happened in Борис's chat


# ---- strictness --------------------------------------------------------------------------


async def test_callback_query_is_answered_once(server: FakeTelegramServer, bot: Bot) -> None:
    anna = server.user(USER_ID)
    await bot.send_message(USER_ID, "?", reply_markup=keyboard([InlineKeyboardButton(text="Да", callback_data="y")]))
    press = asyncio.create_task(anna.press("Да"))
    update = (await bot.get_updates(timeout=2))[-1]
    assert update.callback_query is not None and update.callback_query.data == "y"
    assert isinstance(update.callback_query.message, Message)
    assert await bot.answer_callback_query(update.callback_query.id, text="ок", show_alert=True)
    answer = await press
    assert answer.text == "ок" and answer.show_alert
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(update.callback_query.id)
    with pytest.raises(TelegramBadRequest, match="query ID is invalid"):
        await bot.answer_callback_query("no-such-query")


async def test_inline_buttons_are_validated(server: FakeTelegramServer, bot: Bot) -> None:
    server.user(USER_ID)
    fits = "я" * 32  # 64 bytes in UTF-8
    await bot.send_message(USER_ID, "ok", reply_markup=keyboard([InlineKeyboardButton(text="a", callback_data=fits)]))
    too_long = "я" * 33  # 66 bytes, although only 33 characters
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(
            USER_ID, "x", reply_markup=keyboard([InlineKeyboardButton(text="a", callback_data=too_long)])
        )
    with pytest.raises(TelegramBadRequest, match="more than one action"):
        await bot.send_message(
            USER_ID,
            "x",
            reply_markup=keyboard([InlineKeyboardButton(text="a", callback_data="d", url="https://e.test")]),
        )
    with pytest.raises(TelegramBadRequest, match="Text buttons are unallowed"):
        await bot.send_message(USER_ID, "x", reply_markup=keyboard([InlineKeyboardButton(text="a")]))


async def test_html_and_length_rules(server: FakeTelegramServer, bot: Bot) -> None:
    anna = server.user(USER_ID)
    sent = await bot.send_message(USER_ID, "<b>Талон</b> &lt;№1&gt; <i>a</i>", parse_mode="HTML")
    assert sent.text == "Талон <№1> a"
    assert sent.html_text == "<b>Талон</b> &lt;№1&gt; <i>a</i>"  # entities round-trip
    assert anna.last_message is not None and anna.last_message.text == "Талон <№1> a"
    for bad, reason in [
        ("Иванова <script>", 'Unsupported start tag "script"'),
        ("<b>жирный", "Can't find end tag"),
        ("<b><i>x</b></i>", "Unmatched end tag"),
        ('<span class="x">x</span>', 'must have class "tg-spoiler"'),
    ]:
        with pytest.raises(TelegramBadRequest, match=reason):
            await bot.send_message(USER_ID, bad, parse_mode="HTML")
    # Length counts the visible text, not the tags.
    await bot.send_message(USER_ID, "<b>" + "а" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(USER_ID, "а" * 4097)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(USER_ID, "<b> </b>", parse_mode="HTML")


async def test_edit_and_delete_rules(server: FakeTelegramServer, bot: Bot) -> None:
    server.user(USER_ID)
    markup = keyboard([InlineKeyboardButton(text="Да", callback_data="y")])
    sent = await bot.send_message(USER_ID, "Текст", reply_markup=markup)
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("Текст", chat_id=USER_ID, message_id=sent.message_id, reply_markup=markup)
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(chat_id=USER_ID, message_id=sent.message_id, reply_markup=markup)
    # Same text, keyboard removed: a modification.
    edited = await bot.edit_message_text("Текст", chat_id=USER_ID, message_id=sent.message_id)
    assert isinstance(edited, Message) and edited.edit_date is not None
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER_ID, message_id=999)
    assert await bot.delete_message(USER_ID, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER_ID, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(USER_ID, sent.message_id)


async def test_chat_not_found_and_block(server: FakeTelegramServer, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(USER_ID, "hi")
    anna = server.user(USER_ID)
    server.block(USER_ID)
    for _ in range(2):
        with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
            await bot.send_message(USER_ID, "hi")
    server.unblock(USER_ID)
    await bot.send_message(USER_ID, "hi")
    assert [m.text for m in anna.messages] == ["hi"]


async def test_injected_faults_surface_as_aiogram_errors(server: FakeTelegramServer, bot: Bot) -> None:
    server.user(USER_ID)
    server.user(2002)
    server.fail_next("sendMessage", 429, retry_after=3, chat_id=USER_ID)
    await bot.send_message(2002, "other chat is unaffected")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(USER_ID, "hi")
    assert caught.value.retry_after == 3
    await bot.send_message(USER_ID, "hi")  # only the next one failed
    server.fail_next("sendMessage", 502, times=2)
    for _ in range(2):
        with pytest.raises(TelegramServerError, match="Bad Gateway"):
            await bot.send_message(USER_ID, "hi")
    server.fail_next("sendmessage", 403, chat_id=USER_ID)
    with pytest.raises(TelegramForbiddenError):
        await bot.send_message(USER_ID, "hi")
    assert [m.text for m in server.messages(USER_ID)] == ["hi"]  # failed sends leave nothing behind
    assert [c.status for c in server.calls_to("sendMessage", chat_id=USER_ID)] == [429, 200, 502, 502, 403]


async def test_send_document_is_recorded(server: FakeTelegramServer, bot: Bot) -> None:
    anna = server.user(USER_ID)
    data = b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    sent = await bot.send_document(
        USER_ID, BufferedInputFile(data, "visit.ics"), caption="<b>Талон</b>", parse_mode="HTML"
    )
    assert sent.document is not None and sent.document.file_name == "visit.ics"
    assert sent.caption == "Талон"
    document = anna.documents[-1]
    assert (document.filename, document.data, document.caption) == ("visit.ics", data, "Талон")
    # Re-sending by file_id uploads nothing.
    await bot.send_document(USER_ID, sent.document.file_id)
    assert anna.documents[-1].data is None


async def test_rate_window_counter(server: FakeTelegramServer, bot: Bot) -> None:
    # Windows are half-open [t, t + 1): 0.5, 0.99 and 1.0 share one; 1.5 starts the next.
    assert max_in_window([0.0, 0.5, 0.99, 1.0, 1.5, 3.0], 1.0) == 3
    assert max_in_window([0.0, 0.2, 0.4, 0.6, 0.8], 1.0) == 5
    assert max_in_window([], 1.0) == 0
    server.user(USER_ID)
    server.user(2002)
    for _ in range(3):
        await bot.send_message(USER_ID, "a")
    await bot.send_message(2002, "b")
    rate = server.send_rate()
    assert rate.overall == 4 and rate.per_chat == {USER_ID: 3, 2002: 1} and rate.max_per_chat == 3


async def test_commands_unknown_methods_and_token(server: FakeTelegramServer, bot: Bot) -> None:
    assert await bot.set_my_commands([BotCommand(command="start", description="Начать")])
    assert server.commands() == [{"command": "start", "description": "Начать"}]
    assert [c.command for c in await bot.get_my_commands()] == ["start"]
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Start", description="x")])
    me = await bot.get_me()
    assert me.is_bot and me.id == 123456

    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.base_url}/bot{server.token}/sendPigeon", data={"chat_id": "1"}) as response:
            assert response.status == 404
            assert await response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
        async with http.post(f"{server.base_url}/bot1:wrong/getMe") as response:
            assert response.status == 401
    assert [c.method for c in server.unknown_calls] == ["sendPigeon"]
    with pytest.raises(AssertionError, match="unknown method sendPigeon"):
        server.assert_healthy()


async def test_updates_the_bot_did_not_ask_for_are_not_delivered(server: FakeTelegramServer, bot: Bot) -> None:
    anna = server.user(USER_ID)
    await bot.get_updates(timeout=0, allowed_updates=["message"])
    await bot.send_message(USER_ID, "?", reply_markup=keyboard([InlineKeyboardButton(text="Да", callback_data="y")]))
    with pytest.raises(AssertionError, match=r"would not deliver this callback_query.*\['message'\]"):
        await anna.press("Да")
