"""The Dispatcher with every conversation's router, in the order they claim updates."""

from __future__ import annotations

from aiogram import Dispatcher
from aiogram.filters.callback_data import CallbackData, CallbackQueryFilter
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage

from bot.container import Container
from bot.handlers import (
    booking,
    cardfile,
    errors,
    fallback,
    login,
    moderation,
    operator,
    person_form,
    start,
    visits,
    waitlist,
)
from bot.middlewares import IdentityMiddleware, ServicesMiddleware
from bot.routing import ConversationRouter

ROUTERS: tuple[ConversationRouter, ...] = (
    errors.router,
    start.router,
    moderation.router,
    cardfile.router,
    booking.router,
    visits.router,
    waitlist.router,
    operator.router,
    login.router,
    person_form.router,
    fallback.router,  # last: claims whatever nobody else did
)


def _let_through_own_buttons(router: ConversationRouter) -> None:
    """A pressed button is offered to the handlers of its own conversation only: a router lets through
    the kinds of buttons its handlers look at, read off the handlers themselves so that the two cannot
    drift apart. A router with a handler for any button (the fallback) lets every button through."""
    kinds: list[type[CallbackData]] = []
    for handler in router.callback_query.handlers:
        own = [f.callback.callback_data for f in handler.filters or () if isinstance(f.callback, CallbackQueryFilter)]
        if not own:
            return
        kinds += own
    router.buttons = tuple(kind.__prefix__ + kind.__separator__ for kind in dict.fromkeys(kinds))


for _router in ROUTERS:  # once per process: the routers are module-level, like their handlers
    _let_through_own_buttons(_router)


def build_dispatcher(container: Container, storage: BaseStorage | None = None) -> Dispatcher:
    dp = Dispatcher(storage=storage or MemoryStorage())
    dp.update.outer_middleware(IdentityMiddleware(container.access))
    services = ServicesMiddleware(container.workflow_data())
    # The Dispatcher's inner middlewares run for every router's handlers of that kind of update:
    # messages and buttons are all the conversations handle; the error handlers use no service.
    dp.message.middleware(services)
    dp.callback_query.middleware(services)
    dp.include_routers(*ROUTERS)
    return dp
