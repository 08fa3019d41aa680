"""The router each conversation in ``bot.handlers`` registers its handlers on."""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import CallbackQuery, TelegramObject


class ConversationRouter(Router):
    """A router that turns away what it has no handler for before aiogram does its per-router work.

    The Dispatcher offers every update to each router in turn, and for each one aiogram wraps the
    outer middlewares, copies the update's data a few times and tries the router's filters, even
    when nothing there could take the update. Routers stand in a row of eleven, so a button of a
    conversation far down the row paid that work at every router before it. Here a router lets
    through only the kinds of updates it has handlers for and, for pressed buttons, only the kinds
    of buttons its handlers look at (``buttons``: the prefixes of their callback data, which
    ``bot.dispatcher`` reads off the handlers; ``None`` lets any button through, as the fallback
    needs). Which handler runs is unchanged: a router turned away here had none that would match.
    """

    def __init__(self, *, name: str) -> None:
        super().__init__(name=name)
        self.buttons: tuple[str, ...] | None = None

    async def propagate_event(self, update_type: str, event: TelegramObject, **kwargs: Any) -> Any:
        observer = self.observers.get(update_type)
        if not self.sub_routers and (observer is None or not observer.handlers):
            return UNHANDLED
        if update_type == "callback_query" and self.buttons is not None:
            data = event.data if isinstance(event, CallbackQuery) else None
            if data is None or not data.startswith(self.buttons):
                return UNHANDLED
        return await super().propagate_event(update_type, event, **kwargs)
