"""Telegram's webhook: each POST is one update, handled here and answered when done (or after a
bound, the handler going on), so Telegram neither times out nor redelivers needlessly.

Our own handler over ``Dispatcher.feed_update`` rather than aiogram's ``SimpleRequestHandler``:
draining needs to refuse new updates (503, Telegram delivers them to another instance) and to know
the ones in flight, and a redelivery still in flight elsewhere is answered 503 too.
"""

from __future__ import annotations

import asyncio
import logging
import secrets

from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

from bot.infra.updates import Delivery

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookEndpoint:
    def __init__(self, dp: Dispatcher, bot: Bot, secret: str, *, answer_within: float) -> None:
        self.dp, self.bot, self.secret = dp, bot, secret
        self.answer_within = answer_within
        self.draining = False
        self.tasks: set[asyncio.Task[None]] = set()

    async def handle(self, request: web.Request) -> web.Response:
        if not secrets.compare_digest(request.headers.get(SECRET_HEADER, ""), self.secret):
            return web.Response(status=401, text="wrong secret token")
        if self.draining:
            return web.Response(status=503, text="draining")  # Telegram delivers it again, elsewhere
        try:
            update = Update.model_validate(await request.json(), context={"bot": self.bot})
        except (ValueError, ValidationError):
            return web.Response(status=400, text="not an update")
        delivery = Delivery()
        task = asyncio.create_task(self._feed(update, delivery), name=f"update-{update.update_id}")
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        # Not cancelled with the request: a handler that outlives the bound finishes in the background.
        done, _ = await asyncio.wait({task}, timeout=self.answer_within)
        if task.cancelled():
            return web.Response(status=503, text="cut off by the drain")  # Telegram delivers it again
        if not done:
            log.warning("update %s takes longer than %.0f s: answered, still handled", update.update_id,
                        self.answer_within)
        elif delivery.busy_elsewhere:
            return web.Response(status=503, text="in flight on another instance")
        return web.json_response({})

    async def _feed(self, update: Update, delivery: Delivery) -> None:
        try:
            result = await self.dp.feed_update(self.bot, update, delivery=delivery)
            if isinstance(result, TelegramMethod):
                await self.bot(result)
        except Exception:
            log.exception("update %s failed", update.update_id)

    def register(self, app: web.Application, path: str) -> None:
        app.router.add_post(path, self.handle)
