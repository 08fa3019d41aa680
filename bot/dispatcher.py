"""The Dispatcher with every conversation's router, in the order they claim updates."""

from __future__ import annotations

from aiogram import Dispatcher
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
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
    privacy,
    start,
    visits,
    waitlist,
)
from bot.infra.metrics import measure
from bot.infra.telegram_retry import InUpdate
from bot.infra.updates import ActOnce
from bot.middlewares import FloodControl, IdentityMiddleware


def build_dispatcher(container: Container, storage: BaseStorage | None = None, *,
                     isolation: BaseEventIsolation | None = None, act_once: ActOnce | None = None) -> Dispatcher:
    """Handlers ask for the services (``Container``) by name: they are the Dispatcher's workflow data.

    ``isolation``: per-chat ordering across instances (Redis); ``act_once``: a redelivered update acts once."""
    dp = Dispatcher(storage=storage or MemoryStorage(), events_isolation=isolation, **container.workflow_data())
    # The FSM's middleware waits for the chat's lock: a flood is turned away and a redelivery is
    # recognised before it, and an update waiting for its chat is already in flight (the drain waits for it).
    dp.update.outer_middleware.unregister(dp.fsm)
    dp.update.outer_middleware(InUpdate())  # Telegram requests from here on are replies (RetryReplies)
    dp.update.outer_middleware(FloodControl(container.updates_per_minute))  # before any database work
    if act_once is not None:
        dp.update.outer_middleware(act_once)
    dp.update.outer_middleware(dp.fsm)
    dp.update.outer_middleware(IdentityMiddleware(container.access))
    measure(dp)
    dp.callback_query.middleware(errors.AnswerOnce())  # every button press answered once
    dp.callback_query.middleware(errors.AlertOnError())  # inside it: a failed press's answer says why
    dp.include_routers(
        errors.router,
        start.router,
        privacy.router,
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
