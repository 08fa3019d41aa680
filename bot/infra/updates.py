"""Each Telegram update acts once across instances, and an instance knows what it has in flight.

Telegram redelivers an update whose webhook call failed or took too long, perhaps to another
instance. The first instance to claim its ``update_id`` (``processed_updates``) handles it; a
redelivery of a finished update is dropped; one still in flight elsewhere is answered 503 (webhook),
so that Telegram tries again later — if its holder died, its claim stops being renewed and the next
delivery takes it over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update

from core.clock import Clock
from storage.db import Database
from storage.repositories.updates import Claim

log = logging.getLogger(__name__)

# A claim not renewed for this long belongs to a dead instance; its holder renews it at a third.
CLAIM_LEASE = timedelta(seconds=15)
KEEP_CLAIMS = timedelta(days=1)  # far longer than Telegram keeps redelivering an update

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


@dataclass
class Delivery:
    """What the webhook handler learns of its update (passed to ``feed_update`` as ``delivery``)."""

    busy_elsewhere: bool = False


class ActOnce(BaseMiddleware):
    """Outer middleware on updates: claim, handle, mark done; tracks the updates in flight.

    ``claims``: only a webhook is delivered the same update again (a failed or slow answer). Long
    polling moves past an update once it is fetched, so there the claims would be two write
    transactions an update, each waiting for SQLite's one writer, for nothing: only the tracking
    (for the drain) stays."""

    def __init__(self, db: Database, clock: Clock, instance: str, lease: timedelta = CLAIM_LEASE, *,
                 claims: bool = True) -> None:
        self.db, self.clock, self.instance, self.lease = db, clock, instance, lease
        self.claims = claims
        self.in_flight: set[asyncio.Task[Any]] = set()

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        if not self.claims:
            return await self._tracked(handler, event, data)
        update_id = event.update_id
        async with self.db.write() as uow:
            claim = await uow.updates.claim(update_id, self.instance, self.clock.now(), self.lease)
            await uow.commit()
        if claim is Claim.DONE:
            log.info("update %s was handled already: redelivery dropped", update_id)
            return None
        if claim is Claim.BUSY:
            delivery: Delivery | None = data.get("delivery")
            if delivery is not None:
                delivery.busy_elsewhere = True
            log.info("update %s is being handled elsewhere", update_id)
            return None
        task = asyncio.current_task()
        if task is not None:
            self.in_flight.add(task)
        renewing = asyncio.create_task(self._renew(update_id), name=f"claim-{update_id}")
        try:
            result = await handler(event, data)
        except asyncio.CancelledError:
            # Cut off by the drain: give it back, so that a redelivery to another instance acts.
            renewing.cancel()
            await asyncio.shield(self._release(update_id))
            raise
        except BaseException:
            await self._finish(update_id)  # it acted (in part) and was answered: no second try
            raise
        else:
            await self._finish(update_id)
            return result
        finally:
            renewing.cancel()
            if task is not None:
                self.in_flight.discard(task)

    async def _tracked(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        task = asyncio.current_task()
        if task is not None:
            self.in_flight.add(task)
        try:
            return await handler(event, data)
        finally:
            if task is not None:
                self.in_flight.discard(task)

    async def _renew(self, update_id: int) -> None:
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            try:
                async with self.db.write() as uow:
                    await uow.updates.renew(update_id, self.instance, self.clock.now())
                    await uow.commit()
            except Exception:
                log.exception("could not renew the claim on update %s", update_id)

    async def _finish(self, update_id: int) -> None:
        async with self.db.write() as uow:
            await uow.updates.finish(update_id, self.instance, self.clock.now())
            await uow.commit()

    async def _release(self, update_id: int) -> None:
        async with self.db.write() as uow:
            await uow.updates.release(update_id, self.instance)
            await uow.commit()

    async def drain(self, seconds: float, also: set[asyncio.Task[Any]] | None = None) -> int:
        """Waits up to ``seconds`` for the updates in flight (and the tasks ``also`` given: updates not
        claimed yet); cancels the rest. Returns how many were cut."""
        waiting = set(self.in_flight) | (also or set())
        if waiting:
            await asyncio.wait(waiting, timeout=seconds)
        left = {task for task in waiting | self.in_flight if not task.done()}
        for task in left:
            task.cancel()
        if left:
            with contextlib.suppress(Exception):
                await asyncio.wait(left, timeout=5)
        return len(left)

    async def forget_old(self) -> int:
        """A scheduler job: claims a day old are of no use any more."""
        async with self.db.write() as uow:
            forgotten = await uow.updates.forget_before(self.clock.now() - KEEP_CLAIMS)
            await uow.commit()
        return forgotten
