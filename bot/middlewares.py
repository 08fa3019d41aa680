"""Per-update context: flood control, then who is talking (read from the database once per update)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Chat, TelegramObject, Update, User

from bot.texts.common import TOO_MANY_REQUESTS
from core.access import AccessService

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class IdentityMiddleware(BaseMiddleware):
    def __init__(self, access: AccessService) -> None:
        self.access = access

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        if user is None or user.is_bot:
            return None  # channel posts and the like: nothing for a patient bot to do
        if chat is not None and chat.type != "private":
            return None  # personal data is never discussed in groups
        data["identity"] = await self.access.identify(user.id, chat.id if chat else user.id)
        return await handler(event, data)



@dataclass
class _Bucket:
    tokens: float
    at: float  # time.monotonic() of the last refill
    told: bool = False  # the calm answer was given since the bucket last ran dry


class FloodControl(BaseMiddleware):
    """A token bucket per user (``per_minute`` updates a minute, as a burst too): a flood past it gets one
    calm answer, then silence, and never reaches the database or the handlers, so it cannot slow others.
    In memory per instance: it authorizes nothing, it only sheds load."""

    PRUNE_EVERY = 1000  # updates between sweeps of idle users' buckets

    def __init__(self, per_minute: int) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.buckets: dict[int, _Bucket] = {}
        self.seen = 0

    def allow(self, user_id: int, now: float) -> tuple[bool, bool]:
        """(whether this update may go on, whether to tell the user to slow down)."""
        bucket = self.buckets.get(user_id)
        if bucket is None:
            bucket = self.buckets[user_id] = _Bucket(self.capacity, now)
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            bucket.told = False
            return True, False
        tell, bucket.told = not bucket.told, True
        return False, tell

    def _prune(self, now: float) -> None:
        full_after = self.capacity / self.rate
        for user_id in [u for u, b in self.buckets.items() if now - b.at >= full_after]:
            del self.buckets[user_id]

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None or not isinstance(event, Update):
            return await handler(event, data)
        now = time.monotonic()
        self.seen += 1
        if self.seen % self.PRUNE_EVERY == 0:
            self._prune(now)
        allowed, tell = self.allow(user.id, now)
        if allowed:
            return await handler(event, data)
        if event.callback_query is not None:  # a press is always answered, or its button spins
            await event.callback_query.answer(TOO_MANY_REQUESTS if tell else None, show_alert=tell)
        elif event.message is not None and tell:
            await event.message.answer(TOO_MANY_REQUESTS)
        return None
