"""Prometheus metrics of one instance (/metrics): what it handled, how fast, what Telegram refused.

Counters count this instance's work; a cluster's totals are their sums. The outbox backlog is the
database's, read when scraped, so every instance reports the same figure.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry()
UPDATES = Counter("medbot_updates", "Updates handled, by handler", ["handler"], registry=REGISTRY)
UPDATE_SECONDS = Histogram("medbot_update_seconds", "Time to handle an update, by handler", ["handler"],
                           registry=REGISTRY, buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
BOOKINGS = Counter("medbot_bookings", "Appointments booked (from the schedule or an offer)", registry=REGISTRY)
OFFERS_SENT = Counter("medbot_offers_sent", "Waitlist offers delivered to patients", registry=REGISTRY)
OFFERS_EXPIRED = Counter("medbot_offers_expired", "Waitlist offers that lapsed unanswered", registry=REGISTRY)
TELEGRAM_ERRORS = Counter("medbot_telegram_errors", "Bot API calls that failed, by error code", ["code"],
                          registry=REGISTRY)
OUTBOX_BACKLOG = Gauge("medbot_outbox_backlog", "Outbox messages due and not yet sent", registry=REGISTRY)
IS_LEADER = Gauge("medbot_is_leader", "1 on the instance running the scheduler and the sender", registry=REGISTRY)
INSTANCE = Gauge("medbot_instance_info", "This instance's name", ["instance"], registry=REGISTRY)

# Handlers whose success is a booking (the slot confirmed, an offer taken).
BOOKING_HANDLERS = frozenset({"booking.confirm", "waitlist.confirm"})

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


def handler_name(handler: Any) -> str:
    """``module.function`` of a handler in bot.handlers, e.g. ``booking.confirm`` (``handler`` is the
    middleware data's HandlerObject)."""
    callback = getattr(handler, "callback", None)
    if callback is None:
        return "none"
    module = getattr(callback, "__module__", "") or ""
    return f"{module.rsplit('.', 1)[-1]}.{getattr(callback, '__qualname__', type(callback).__name__)}"


class MeasureHandlers(BaseMiddleware):
    """Inner middleware: runs once the handler is chosen, so it knows the handler's name."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        name = handler_name(data.get("handler"))
        started = time.perf_counter()
        try:
            result = await handler(event, data)
        finally:
            UPDATES.labels(name).inc()
            UPDATE_SECONDS.labels(name).observe(time.perf_counter() - started)
        if name in BOOKING_HANDLERS:
            BOOKINGS.inc()
        return result


def measure(dp: Dispatcher) -> None:
    for name, observer in dp.observers.items():
        if name not in {"update", "error"}:
            observer.middleware(MeasureHandlers())


def error_code(exc: BaseException) -> str:
    """Telegram's error code of a failed call (the class aiogram raised tells it)."""
    codes: list[tuple[type[BaseException], str]] = [
        (TelegramRetryAfter, "429"), (TelegramForbiddenError, "403"), (TelegramUnauthorizedError, "401"),
        (TelegramNotFound, "404"), (TelegramConflictError, "409"), (TelegramEntityTooLarge, "413"),
        (TelegramBadRequest, "400"), (TelegramServerError, "5xx"), (TelegramNetworkError, "network"),
    ]
    return next((code for kind, code in codes if isinstance(exc, kind)), "other")


class CountTelegramErrors(BaseRequestMiddleware):
    """On the Bot's session: every call, the outbox's and the handlers' replies alike."""

    async def __call__(self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
                       method: TelegramMethod[TelegramType]) -> Response[TelegramType]:
        try:
            return await make_request(bot, method)
        except TelegramAPIError as exc:
            TELEGRAM_ERRORS.labels(error_code(exc)).inc()
            raise
