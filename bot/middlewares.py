"""Per-update context: who is talking, read from the database once for every handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Chat, TelegramObject, User

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

