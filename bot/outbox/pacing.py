"""Telegram's sending limits: about 30 messages/s per bot and 1 message/s per chat."""

from __future__ import annotations

import asyncio
import time


class Pacer:
    def __init__(self, per_second: float, per_chat_interval: float) -> None:
        self.interval = 1.0 / per_second
        self.per_chat_interval = per_chat_interval
        self._next_global = 0.0
        self._next_chat: dict[int, float] = {}
        self._paused_until = 0.0

    def chat_ready_in(self, chat_id: int) -> float:
        return max(0.0, self._next_chat.get(chat_id, 0.0) - time.monotonic())

    def pause(self, seconds: float) -> None:
        """A 429 applies to the whole bot: nobody sends until it has passed."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)
        # Moments reserved before the 429 came back are void: the queue starts again after the pause.
        self._next_global = max(self._next_global, self._paused_until)

    async def until_unpaused(self) -> None:
        """Returns once no 429 pause is running; a pause that comes in while it sleeps is waited out too."""
        left = self._paused_until - time.monotonic()
        if left > 0:
            await asyncio.sleep(left)
            await self.until_unpaused()

    async def acquire(self, chat_id: int) -> None:
        """Reserve the next free sending moment for this chat, then sleep until it and any pause."""
        now = time.monotonic()
        at = max(now, self._next_global, self._next_chat.get(chat_id, 0.0), self._paused_until)
        self._next_global = at + self.interval
        self._next_chat[chat_id] = at + self.per_chat_interval
        if len(self._next_chat) > 10_000:
            self._next_chat = {c: t for c, t in self._next_chat.items() if t > now}
        if at > now:
            await asyncio.sleep(at - now)
        await self.until_unpaused()
