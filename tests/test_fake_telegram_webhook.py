"""The fake Telegram Bot API delivers updates by webhook as Telegram does.

The receivers are tiny aiohttp apps on 127.0.0.1 (real HTTP); the bot side calls the fake
through a real aiogram ``Bot``.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError
from aiogram.filters import CommandStart
from aiogram.methods import SendMessage
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from tests.fake_telegram import SECRET_HEADER, DeliveryAttempt, FakeTelegramServer

PUBLIC_URL = "https://bot.example.org/telegram/webhook"  # what production bots register
RETRY_DELAY = 0.05


@dataclass(slots=True)
class Hit:
    """One POST the receiver got."""

    update: dict[str, Any]
    secret: str | None
    started: float
    finished: float = 0.0

    @property
    def update_id(self) -> int:
        return int(self.update["update_id"])

    @property
    def chat_id(self) -> int:
        return int(self.update["message"]["chat"]["id"])


Answer = Callable[[Hit], Awaitable[web.StreamResponse]]


async def accept(hit: Hit) -> web.StreamResponse:
    return web.json_response({})


class Receiver:
    """A webhook endpoint that records what it got and answers with ``answer``."""

    def __init__(self, answer: Answer = accept) -> None:
        self.answer = answer
        self.hits: list[Hit] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.url = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        hit = Hit(await request.json(), request.headers.get(SECRET_HEADER), time.monotonic())
        self.hits.append(hit)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self.answer(hit)
        finally:
            self.in_flight -= 1
            hit.finished = time.monotonic()

    def update_ids(self) -> list[int]:
        return [hit.update_id for hit in self.hits]


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """Run ``app`` on a free port of 127.0.0.1; yields its base URL."""
    runner = web.AppRunner(app, shutdown_timeout=0.5, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def receiving(answer: Answer = accept) -> AsyncIterator[Receiver]:
    receiver = Receiver(answer)
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    async with serving(app) as base:
        receiver.url = f"{base}/hook"
        yield receiver


def fail_first(status: int = 500, *, sleep: float = 0.0) -> Answer:
    """Answer each update's first delivery with ``status`` (after ``sleep``), later ones 200."""
    seen: set[int] = set()

    async def answer(hit: Hit) -> web.StreamResponse:
        if hit.update_id in seen:
            return web.json_response({})
        seen.add(hit.update_id)
        await asyncio.sleep(sleep)
        return web.Response(status=status)

    return answer


def slow(seconds: float) -> Answer:
    async def answer(hit: Hit) -> web.StreamResponse:
        await asyncio.sleep(seconds)
        return web.json_response({})

    return answer


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer(webhook_timeout=2.0, webhook_retry_delay=RETRY_DELAY) as fake:
        yield fake
        fake.assert_healthy()


@pytest.fixture
async def bot(server: FakeTelegramServer) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(server.base_url))
    async with Bot(server.token, session=session) as real_bot:
        yield real_bot


def by_update(attempts: list[DeliveryAttempt]) -> list[DeliveryAttempt]:
    """Attempts of concurrent chats finish in any order; they start in update order."""
    return sorted(attempts, key=lambda attempt: (attempt.update_id, attempt.started))


async def send_from(server: FakeTelegramServer, chats: list[int], per_chat: int) -> None:
    for n in range(per_chat):
        for chat_id in chats:
            await server.user(chat_id).send(f"сообщение {n}")


# ---- setWebhook, getWebhookInfo, deleteWebhook -------------------------------------------


async def test_set_webhook_validates_and_reports(server: FakeTelegramServer, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="secret token contains unallowed characters"):
        await bot.set_webhook(PUBLIC_URL, secret_token="with space")
    with pytest.raises(TelegramBadRequest, match="secret token is too long"):
        await bot.set_webhook(PUBLIC_URL, secret_token="a" * 257)
    with pytest.raises(TelegramBadRequest, match="invalid webhook URL"):
        await bot.set_webhook("not a url")
    assert (await bot.get_webhook_info()).url == ""

    server.user(1001)  # the chat exists; its update waits for a reachable target
    server.webhook_targets = ["http://127.0.0.1:9/unreachable"]
    assert await bot.set_webhook(
        PUBLIC_URL, secret_token="Aa0_-" * 51 + "z", max_connections=7, allowed_updates=["message"]
    )
    await server.user(1001).send("привет")
    await server.wait_for_attempts(1)
    info = await bot.get_webhook_info()
    assert info.url == PUBLIC_URL and info.max_connections == 7 and info.allowed_updates == ["message"]
    assert info.pending_update_count == 1
    assert info.last_error_message and info.last_error_date


async def test_get_updates_conflicts_while_a_webhook_is_set(server: FakeTelegramServer, bot: Bot) -> None:
    held_poll = asyncio.create_task(bot.get_updates(timeout=5))
    await server.wait_for_call("getUpdates")
    async with receiving() as receiver:
        await bot.set_webhook(receiver.url)
        with pytest.raises(TelegramConflictError, match="terminated by setWebhook request"):
            await asyncio.wait_for(held_poll, 2)
        with pytest.raises(TelegramConflictError, match="can't use getUpdates method while webhook is active"):
            await bot.get_updates(timeout=0)
        await bot.delete_webhook()
    assert await bot.get_updates(timeout=0) == []


async def test_delete_webhook_keeps_pending_updates_for_polling(server: FakeTelegramServer, bot: Bot) -> None:
    async with receiving(fail_first(500)) as receiver:
        server.webhook_retry_delay = 60  # the failed update stays pending
        await bot.set_webhook(receiver.url)
        await server.user(1001).send("раз")
        await server.wait_for_attempts(1)
        await server.user(1001).send("два")
        with pytest.raises(AssertionError, match=r"(?s)2 update\(s\) not yet confirmed by the webhook.*500"):
            await server.user(1001).expect("ответ", timeout=0.1)
        await bot.delete_webhook()
    assert [u.message.text for u in await bot.get_updates(timeout=0) if u.message] == ["раз", "два"]
    assert len(receiver.hits) == 1  # "два" waited behind "раз", never sent

    async with receiving(fail_first(500)) as receiver:
        await bot.set_webhook(receiver.url)
        await server.wait_for_attempts(2)
        await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates(timeout=0) == []


async def test_set_webhook_can_drop_pending_updates(server: FakeTelegramServer, bot: Bot) -> None:
    await server.user(1001).send("старое")
    async with receiving() as receiver:
        await bot.set_webhook(receiver.url, drop_pending_updates=True)
        await server.user(1001).send("новое")
        await server.wait_for_webhook_idle()
    assert [hit.update["message"]["text"] for hit in receiver.hits] == ["новое"]


# ---- delivery ----------------------------------------------------------------------------


async def test_delivers_with_the_secret_and_confirms_on_2xx(server: FakeTelegramServer, bot: Bot) -> None:
    async with receiving() as receiver:
        await bot.set_webhook(receiver.url, secret_token="s3cr3t-_")
        await send_from(server, [1001, 1002], per_chat=1)
        await server.wait_for_webhook_idle()
    assert [hit.secret for hit in receiver.hits] == ["s3cr3t-_", "s3cr3t-_"]
    assert sorted(receiver.update_ids()) == [1, 2]
    assert [u["update_id"] for u in server.state.delivered_updates] == [1, 2]
    assert [(a.update_id, a.target, a.status, a.ok) for a in by_update(server.webhook_attempts)] == [
        (1, receiver.url, 200, True),
        (2, receiver.url, 200, True),
    ]
    assert (await bot.get_webhook_info()).pending_update_count == 0


async def test_one_chat_in_order_different_chats_concurrently(server: FakeTelegramServer, bot: Bot) -> None:
    chats = [1001, 1002, 1003]
    async with receiving(slow(0.2)) as receiver:
        await bot.set_webhook(receiver.url)
        await send_from(server, chats, per_chat=3)
        await server.wait_for_webhook_idle()
    assert receiver.max_in_flight == len(chats)
    for chat_id in chats:
        hits = [hit for hit in receiver.hits if hit.chat_id == chat_id]
        assert [hit.update_id for hit in hits] == sorted(hit.update_id for hit in hits)
        assert all(later.started >= earlier.finished for earlier, later in itertools.pairwise(hits))


async def test_max_connections_bounds_concurrency(server: FakeTelegramServer, bot: Bot) -> None:
    async with receiving(slow(0.2)) as receiver:
        await bot.set_webhook(receiver.url, max_connections=2)
        await send_from(server, [1001, 1002, 1003, 1004], per_chat=1)
        await server.wait_for_webhook_idle()
    assert receiver.max_in_flight == 2 and len(receiver.hits) == 4


async def test_a_500_is_delivered_again_exactly_once_and_holds_the_chat(server: FakeTelegramServer, bot: Bot) -> None:
    async with receiving(fail_first(500)) as receiver:
        await bot.set_webhook(receiver.url)
        await send_from(server, [1001], per_chat=2)
        await server.wait_for_webhook_idle()
        await asyncio.sleep(RETRY_DELAY * 4)  # time enough for a wrong third delivery
    assert receiver.update_ids() == [1, 1, 2, 2]  # the second waits until the first is confirmed
    assert [(a.update_id, a.status) for a in server.webhook_attempts] == [(1, 500), (1, 200), (2, 500), (2, 200)]
    failed, retried = server.webhook_attempts[:2]
    assert failed.error == "Wrong response from the webhook: 500 Internal Server Error"
    assert retried.started - failed.finished >= RETRY_DELAY
    info = await bot.get_webhook_info()
    assert info.last_error_message == failed.error and info.pending_update_count == 0


async def test_a_timeout_is_delivered_again_exactly_once(server: FakeTelegramServer, bot: Bot) -> None:
    server.webhook_timeout = 0.3
    async with receiving(fail_first(200, sleep=1.0)) as receiver:
        await bot.set_webhook(receiver.url)
        await server.user(1001).send("медленно")
        await server.wait_for_webhook_idle()
        await asyncio.sleep(1.0)  # the slow first answer comes too late and changes nothing
    assert receiver.update_ids() == [1, 1]
    first, second = server.webhook_attempts
    assert (first.status, first.error) == (None, "Read timeout expired")
    assert 0.25 <= first.finished - first.started < 0.9  # not the slow answer at 1.0 s
    assert second.ok and server.state.delivered_updates == [receiver.hits[0].update]


async def test_connection_refused_is_delivered_again(server: FakeTelegramServer, bot: Bot) -> None:
    async with receiving() as receiver:
        server.balance_over(["http://127.0.0.1:9/down", receiver.url])
        await bot.set_webhook(PUBLIC_URL)
        await server.user(1001).send("привет")
        await server.wait_for_webhook_idle()
    down, up = server.webhook_attempts
    assert down.status is None and down.error and up.target == receiver.url and up.ok


async def test_round_robin_over_two_targets_and_failover(server: FakeTelegramServer, bot: Bot) -> None:
    async with receiving() as first, receiving() as second:
        server.balance_over([first.url, second.url])
        await bot.set_webhook(PUBLIC_URL)
        await send_from(server, [1001, 1002, 1003, 1004], per_chat=1)
        await server.wait_for_webhook_idle()
        assert len(first.hits) == len(second.hits) == 2
        assert [a.target for a in by_update(server.webhook_attempts)] == [first.url, second.url] * 2

        first.answer = fail_first(503)
        mark = len(server.webhook_attempts)
        await send_from(server, [1001, 1002, 1003, 1004], per_chat=1)
        await server.wait_for_webhook_idle()
    attempts = server.webhook_attempts[mark:]
    for failed in (a for a in attempts if not a.ok):
        retry = next(a for a in attempts if a.update_id == failed.update_id and a.started > failed.started)
        assert failed.target == first.url and retry.target == second.url and retry.ok
    assert sorted(a.update_id for a in attempts if a.ok) == [5, 6, 7, 8]


async def test_a_method_in_the_answer_body_is_executed(server: FakeTelegramServer, bot: Bot) -> None:
    async def reply(hit: Hit) -> web.StreamResponse:
        if hit.update["message"]["text"] == "привет":
            return web.json_response({"method": "sendMessage", "chat_id": hit.chat_id, "text": "Ответ из вебхука"})
        return web.Response(text='{"method": "sendMess')  # not a method call: ignored, still confirmed

    anna = server.user(1001, "Анна")
    async with receiving(reply) as receiver:
        await bot.set_webhook(receiver.url)
        await anna.send("привет")
        await anna.expect("Ответ из вебхука")
        await anna.send("ещё")
        await server.wait_for_webhook_idle()
    assert [call.chat_id for call in server.calls_to("sendMessage")] == [1001]
    assert [a.ok for a in server.webhook_attempts] == [True, True]


# ---- aiogram's own webhook handler -------------------------------------------------------


def echo_router() -> Router:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> SendMessage:
        # Returned, not awaited: aiogram puts the call in the webhook's answer.
        button = InlineKeyboardButton(text="Да", callback_data="yes")
        return message.answer("Привет!", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button]]))

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(f"Эхо: {message.text}")

    @router.callback_query(F.data == "yes")
    async def yes(callback: CallbackQuery) -> None:
        await callback.answer("Принято")

    return router


@pytest.mark.parametrize("in_background", [False, True], ids=["answer-in-body", "background"])
async def test_aiogram_simple_request_handler(server: FakeTelegramServer, bot: Bot, in_background: bool) -> None:
    dispatcher = Dispatcher()
    dispatcher.include_router(echo_router())
    app = web.Application()
    handler = SimpleRequestHandler(dispatcher, bot, handle_in_background=in_background, secret_token="right")
    handler.register(app, path="/webhook")
    anna = server.user(1001, "Анна")
    async with serving(app) as base:
        server.webhook_targets = [f"{base}/webhook"]
        # A wrong secret is refused (401) and Telegram keeps the update for later.
        await bot.set_webhook(PUBLIC_URL, secret_token="wrong", allowed_updates=dispatcher.resolve_used_update_types())
        await anna.send("/start")
        await server.wait_for_attempts(2)
        assert {a.status for a in server.webhook_attempts} == {401}
        assert anna.messages == []

        await bot.set_webhook(PUBLIC_URL, secret_token="right")
        greeting = await anna.expect("Привет!")
        assert greeting.buttons == [["Да"]]
        assert (await anna.press("Да")).text == "Принято"
        await anna.send("как дела")
        await anna.expect("Эхо: как дела")
        await server.wait_for_webhook_idle()
        await bot.delete_webhook()
    assert [m.text for m in anna.messages] == ["Привет!", "Эхо: как дела"]
