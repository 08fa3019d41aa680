"""What only the leader runs: the scheduler's jobs and the outbox sender (one sender per bot, so
Telegram's 30 messages/s and 1/s per chat hold for the whole cluster)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.infra.metrics import IS_LEADER, OFFERS_EXPIRED
from bot.infra.scheduler import make_scheduler
from bot.infra.updates import ActOnce
from bot.outbox.sender import OutboxSender
from core.waitlist import WaitlistService
from storage.db import Database

log = logging.getLogger(__name__)
SENDER_STOP_SECONDS = 10.0  # the send in progress finishes; Telegram answers well within this


class LeaderWork:
    def __init__(self, db: Database, waitlist: WaitlistService, reminders_due: Callable[[], Awaitable[Any]],
                 new_sender: Callable[[], OutboxSender], act_once: ActOnce, *, offer_check_seconds: float) -> None:
        self.db, self.waitlist, self.new_sender, self.act_once = db, waitlist, new_sender, act_once
        self.reminders_due = reminders_due
        self.offer_check_seconds = offer_check_seconds
        self.scheduler: AsyncIOScheduler | None = None
        self.sender: OutboxSender | None = None
        self.sender_task: asyncio.Task[None] | None = None

    async def expire_offers(self) -> int:
        expired = await self.waitlist.expire_due()
        OFFERS_EXPIRED.inc(expired)
        return expired

    async def start(self) -> None:
        IS_LEADER.set(1)
        self.sender = self.new_sender()
        self.db.on_outbox = self.sender.kick
        self.sender_task = asyncio.create_task(self.sender.run(), name="outbox")
        # Whatever lapsed while nobody led moves on now.
        await self.expire_offers()
        await self.waitlist.reconcile()
        self.scheduler = make_scheduler({
            "expire-offers": (self.expire_offers, self.offer_check_seconds),
            "reconcile-waitlist": (self.waitlist.reconcile, 60),
            "reminders": (self.reminders_due, 60),
            "forget-updates": (self.act_once.forget_old, 3600),
        })
        self.scheduler.start()

    async def stop(self) -> None:
        IS_LEADER.set(0)
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None
        self.db.on_outbox = None
        if self.sender is not None and self.sender_task is not None:
            self.sender.stop()
            try:
                await asyncio.wait_for(self.sender_task, SENDER_STOP_SECONDS)
            except TimeoutError:
                log.warning("the outbox sender did not stop in %.0f s; cut", SENDER_STOP_SECONDS)
            except Exception:
                log.exception("the outbox sender failed")
            with contextlib.suppress(asyncio.CancelledError):
                if not self.sender_task.done():
                    await self.sender_task
        self.sender, self.sender_task = None, None
