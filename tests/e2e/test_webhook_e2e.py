"""End-to-end: the real bot process in webhook mode — secret, redelivery, probes, metrics, drain."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
from redis.asyncio import Redis

from tests.e2e.harness import WEBHOOK_SECRET, BotProcess
from tests.fake_telegram import SECRET_HEADER
from tests.fake_telegram.server import FakeTelegramServer

pytestmark = pytest.mark.e2e
REDIS_URL = os.environ.get("TEST_REDIS_URL")
CONSENT = "Согласие на обработку персональных данных"


def start_update(update_id: int, chat_id: int) -> dict[str, Any]:
    user = {"id": chat_id, "is_bot": False, "first_name": "Анна"}
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": int(time.time()), "chat": {"id": chat_id, "type": "private"},
        "from": user, "text": "/start", "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}


async def post(bot: BotProcess, update: dict[str, Any], secret: str | None = WEBHOOK_SECRET) -> int:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    async with aiohttp.ClientSession() as session, session.post(
            f"{bot.web_url}/telegram/webhook", json=update, headers=headers) as response:
        return response.status


async def get(bot: BotProcess, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(f"{bot.web_url}{path}") as response:
        return response.status, await response.text()


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    if not REDIS_URL:
        pytest.skip("TEST_REDIS_URL is not set")
    client = Redis.from_url(REDIS_URL)
    await client.flushdb()
    try:
        yield client
    finally:
        await client.flushdb()
        await client.aclose()


def chat_lock(fake_api: FakeTelegramServer, chat_id: int) -> str:
    """The Redis key aiogram's RedisEventIsolation locks a chat's updates with."""
    bot_id = int(fake_api.token.split(":")[0])
    return DefaultKeyBuilder(with_destiny=True).build(StorageKey(bot_id, chat_id, chat_id), "lock")


async def test_updates_arrive_by_webhook_and_the_probes_answer(fake_api: FakeTelegramServer,
                                                                bot_process: BotProcess) -> None:
    await bot_process.start(bot_process.webhook_env())
    [call] = fake_api.calls_to("setWebhook")
    assert call.params["url"] == f"{bot_process.web_url}/telegram/webhook"
    assert call.params["secret_token"] == WEBHOOK_SECRET
    assert "message" in call.params["allowed_updates"] and "callback_query" in call.params["allowed_updates"]

    anna = fake_api.user(5001, "Анна")
    await anna.send("/start")
    await anna.expect(CONSENT)
    attempts = await fake_api.wait_for_attempts(1)
    assert all(attempt.ok for attempt in attempts)

    assert await get(bot_process, "/healthz") == (200, "ok")
    assert (await get(bot_process, "/readyz"))[0] == 200
    status, metrics = await get(bot_process, "/metrics")
    assert status == 200
    assert 'medbot_updates_total{handler="start.' in metrics
    assert "medbot_update_seconds_bucket" in metrics and "medbot_outbox_backlog" in metrics
    assert "medbot_is_leader 1.0" in metrics


async def test_a_wrong_or_missing_secret_is_refused(fake_api: FakeTelegramServer, bot_process: BotProcess) -> None:
    await bot_process.start(bot_process.webhook_env())
    fake_api.user(5002, "Борис")
    assert await post(bot_process, start_update(900_001, 5002), secret="wrong") == 401
    assert await post(bot_process, start_update(900_002, 5002), secret=None) == 401
    await asyncio.sleep(0.5)
    assert fake_api.calls_to("sendMessage", 5002) == []


async def test_a_redelivered_update_acts_once(fake_api: FakeTelegramServer, bot_process: BotProcess) -> None:
    await bot_process.start(bot_process.webhook_env())
    fake_api.user(5003, "Вера")
    update = start_update(900_010, 5003)
    assert await post(bot_process, update) == 200
    answered = len(fake_api.calls_to("sendMessage", 5003))
    assert answered >= 1
    assert await post(bot_process, update) == 200  # Telegram's redelivery: already handled
    await asyncio.sleep(0.5)
    assert len(fake_api.calls_to("sendMessage", 5003)) == answered
    assert "redelivery dropped" in bot_process.log_text()


async def test_sigterm_finishes_the_update_in_flight_and_refuses_new_ones(
        fake_api: FakeTelegramServer, bot_process: BotProcess, redis: Redis) -> None:
    assert REDIS_URL
    await bot_process.start({**bot_process.webhook_env(), "REDIS_URL": REDIS_URL, "DRAIN_SECONDS": "10"})
    assert bot_process.proc is not None
    fake_api.user(5004, "Глеб")
    # The chat's lock held elsewhere (another instance's update of this chat): this one waits for it.
    lock = redis.lock(chat_lock(fake_api, 5004), timeout=30)
    assert await lock.acquire()
    in_flight = asyncio.create_task(post(bot_process, start_update(900_020, 5004)))
    await asyncio.sleep(0.5)
    assert not in_flight.done()

    stopped_at = time.monotonic()
    bot_process.proc.send_signal(signal.SIGTERM)
    await asyncio.sleep(0.3)
    assert (await get(bot_process, "/readyz"))[0] == 503
    assert await post(bot_process, start_update(900_021, 5004)) == 503  # Telegram tries another instance
    await lock.release()
    assert await asyncio.wait_for(in_flight, 10) == 200
    assert await asyncio.wait_for(bot_process.proc.wait(), 15) == 0
    assert time.monotonic() - stopped_at < 10
    assert fake_api.calls_to("sendMessage", 5004)  # the update in flight was answered
    assert bot_process.log_text().splitlines()[-1].endswith("bot stopped")


async def test_an_update_over_the_drain_bound_is_cut_and_left_for_redelivery(
        fake_api: FakeTelegramServer, bot_process: BotProcess, redis: Redis) -> None:
    assert REDIS_URL
    await bot_process.start({**bot_process.webhook_env(), "REDIS_URL": REDIS_URL, "DRAIN_SECONDS": "1"})
    assert bot_process.proc is not None
    fake_api.user(5005, "Дина")
    lock = redis.lock(chat_lock(fake_api, 5005), timeout=30)
    assert await lock.acquire()
    in_flight = asyncio.create_task(post(bot_process, start_update(900_030, 5005)))
    await asyncio.sleep(0.5)
    stopped_at = time.monotonic()
    bot_process.proc.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(bot_process.proc.wait(), 15) == 0
    assert time.monotonic() - stopped_at < 8
    assert await in_flight == 503  # not answered 200: Telegram delivers it again
    await lock.release()


async def test_polling_drains_on_sigterm_too(fake_api: FakeTelegramServer, bot_process: BotProcess,
                                             redis: Redis) -> None:
    assert REDIS_URL
    await bot_process.start({"REDIS_URL": REDIS_URL, "DRAIN_SECONDS": "10"})
    assert bot_process.proc is not None
    zoya = fake_api.user(5006, "Зоя")
    lock = redis.lock(chat_lock(fake_api, 5006), timeout=30)
    assert await lock.acquire()
    await zoya.send("/start")
    await asyncio.sleep(1.0)  # polled, waiting for the chat's lock
    bot_process.proc.send_signal(signal.SIGTERM)
    await asyncio.sleep(0.3)
    await lock.release()
    assert await asyncio.wait_for(bot_process.proc.wait(), 15) == 0
    await zoya.expect(CONSENT)
