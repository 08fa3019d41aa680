"""Per-update context: who is talking (from the database), resolved once for every handler, and the
services the handler asks for by name."""

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


class ServicesMiddleware(BaseMiddleware):
    """Hands the services (``Container``) to the handler about to run, by name as it asks for them.

    Not as the Dispatcher's workflow data: aiogram copies the update's data at every router and
    every filter it tries on the way to a handler, and seventeen services more in that data made
    each of those copies, and so every update, dearer. Here they join the data once, at the end.
    """

    def __init__(self, services: dict[str, Any]) -> None:
        self.services = services

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        data.update(self.services)
        return await handler(event, data)
