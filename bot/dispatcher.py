"""The Dispatcher with every conversation's router, in the order they claim updates."""

from __future__ import annotations

from aiogram import Dispatcher
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
from bot.infra.telegram_retry import InUpdate
from bot.middlewares import FloodControl, IdentityMiddleware


def build_dispatcher(container: Container, storage: BaseStorage | None = None) -> Dispatcher:
    """Handlers ask for the services (``Container``) by name: they are the Dispatcher's workflow data."""
    dp = Dispatcher(storage=storage or MemoryStorage(), **container.workflow_data())
    dp.update.outer_middleware(InUpdate())  # Telegram requests from here on are replies (RetryReplies)
    dp.update.outer_middleware(FloodControl(container.updates_per_minute))  # before any database read
    dp.update.outer_middleware(IdentityMiddleware(container.access))
    dp.callback_query.middleware(errors.AnswerOnce())  # every button press answered once
    dp.callback_query.middleware(errors.AlertOnError())  # inside it: a failed press's answer says why
    dp.include_routers(
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
    return dp
