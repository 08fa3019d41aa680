"""The outbox honours Telegram's 429: nothing is sent before ``retry_after`` has passed (issue 15)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.outbox.pacing import Pacer
from bot.outbox.sender import OutboxSender, Rendered
from core.clock import FixedClock
from storage.db import Database
from storage.models import OutboxMessage
from tests.fake_telegram.server import FakeTelegramServer

CHATS = (5001, 5002, 5003, 5004)


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as server:
        for chat in CHATS:
            server.user(chat, "Пациент")
        yield server


@pytest.fixture
async def bot(api: FakeTelegramServer) -> AsyncIterator[Bot]:
    async with Bot(api.token, session=AiohttpSession(api=TelegramAPIServer.from_base(api.base_url))) as real_bot:
        yield real_bot


async def plain(message: OutboxMessage) -> Rendered:
    return Rendered(f"Сообщение {message.id}")


async def test_nothing_is_sent_before_retry_after_has_passed(sqlite_db: Database, clock: FixedClock,
                                                            api: FakeTelegramServer, bot: Bot) -> None:
    async with sqlite_db.write() as uow:
        for chat in CHATS:
            uow.outbox.add(chat, "notice", {}, clock.now())
        await uow.commit()
    api.fail_next("sendMessage", 429, retry_after=1, chat_id=CHATS[0])
    # One message at a time, so the 429 is back before the next send could start.
    sender = OutboxSender(sqlite_db, bot, clock, plain, Pacer(per_second=25, per_chat_interval=0.01), concurrency=1)

    await sender.deliver_due()

    sends = api.calls_to("sendMessage")
    refused = next(call for call in sends if call.status == 429)
    after = [call for call in sends if call.seq > refused.seq]
    assert after, "the other chats' messages were sent"
    assert min(call.at for call in after) - refused.at >= 1.0
