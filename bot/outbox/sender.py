"""Delivers the outbox: paced, retried, and reporting chats that blocked the bot.

The database says what is owed; this loop only wakes up (on a kick after a commit, or on its
poll interval), reads what is due, and sends it. A restart loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardMarkup

from bot.infra.metrics import OFFERS_SENT
from bot.outbox.pacing import Pacer
from core.clock import Clock
from core.notify import Kind
from storage.db import Database
from storage.models import OutboxMessage
from storage.repositories.outbox import OutboxRepo

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
CLAIM_LEASE = timedelta(seconds=60)


@dataclass(frozen=True)
class Rendered:
    text: str
    markup: InlineKeyboardMarkup | None = None


Renderer = Callable[[OutboxMessage], Awaitable[Rendered | None]]
UnreachableHook = Callable[[int], Awaitable[None]]


class OutboxSender:
    def __init__(self, db: Database, bot: Bot, clock: Clock, render: Renderer, pacer: Pacer, *,
                 on_unreachable: UnreachableHook | None = None, poll_seconds: float = 2.0,
                 batch: int = 100, concurrency: int = 8) -> None:
        self.db, self.bot, self.clock, self.render, self.pacer = db, bot, clock, render, pacer
        self.on_unreachable = on_unreachable
        self.poll_seconds, self.batch = poll_seconds, batch
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(concurrency)
        self._stopping = False

    def kick(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                sent = await self.deliver_due()
            except Exception:
                log.exception("outbox round failed")
                sent = 0
            if sent >= self.batch:
                continue  # more may be waiting
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)

    async def deliver_due(self) -> int:
        async with self.db.read() as uow:
            due = await uow.outbox.due(self.clock.now(), self.batch)
        tasks = []
        for message in due:
            if self._stopping:
                break  # the rest stay due, unclaimed, for the next leader
            await self.pacer.acquire(message.chat_id)
            await self._slots.acquire()
            tasks.append(asyncio.create_task(self._deliver(message)))
        if tasks:
            await asyncio.gather(*tasks)
        return len(due)

    async def _deliver(self, message: OutboxMessage) -> None:
        try:
            await self._send(message)
        finally:
            self._slots.release()

    async def _send(self, message: OutboxMessage) -> None:
        async with self.db.write() as uow:
            claimed = await uow.outbox.claim(message.id, self.clock.now(), CLAIM_LEASE)
            await uow.commit()
        if not claimed:
            return  # another sender has it
        rendered = await self.render(message)
        if rendered is None:  # no longer true (an offer answered meanwhile): nothing to say
            await self._finish(message, None)
            return
        # A 429 may have come back for another message since this one's moment was reserved.
        await self.pacer.until_unpaused()
        try:
            sent = await self.bot.send_message(message.chat_id, rendered.text, reply_markup=rendered.markup)
        except TelegramRetryAfter as exc:
            self.pacer.pause(exc.retry_after)
            await self._retry(message, float(exc.retry_after), "429")
        except TelegramForbiddenError:
            await self._unreachable(message)
        except (TelegramServerError, TelegramNetworkError) as exc:
            await self._retry(message, OutboxRepo.backoff(message.attempts).total_seconds(), type(exc).__name__)
        except TelegramBadRequest as exc:
            log.error("outbox message %s refused: %s", message.id, exc.message)
            async with self.db.write() as uow:
                await uow.outbox.give_up(message.id, exc.message)
                await uow.commit()
        else:
            await self._finish(message, sent.message_id)
            if message.kind == Kind.OFFER:
                OFFERS_SENT.inc()

    async def _finish(self, message: OutboxMessage, telegram_message_id: int | None) -> None:
        async with self.db.write() as uow:
            await uow.outbox.mark_sent(message.id, self.clock.now(), telegram_message_id)
            await uow.commit()

    async def _retry(self, message: OutboxMessage, seconds: float, error: str) -> None:
        async with self.db.write() as uow:
            if message.attempts + 1 >= MAX_ATTEMPTS:
                await uow.outbox.give_up(message.id, error)
            else:
                await uow.outbox.retry_later(message.id, self.clock.now() + timedelta(seconds=seconds), error)
            await uow.commit()

    async def _unreachable(self, message: OutboxMessage) -> None:
        log.info("chat %s blocked the bot; its pending messages are dropped", message.chat_id)
        async with self.db.write() as uow:
            await uow.login.mark_unreachable(message.chat_id, self.clock.now())
            await uow.outbox.drop_pending_for_chat(message.chat_id, "403")
            await uow.commit()
        if self.on_unreachable is not None:
            await self.on_unreachable(message.chat_id)
