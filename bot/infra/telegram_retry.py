"""Replies survive Telegram's flood control and brief faults: the request waits and is made again.

A patient pressed a button and the booking is stored: a 429 on the answer or on the «Вы записаны» edit
must not turn into «Что-то пошло не так» or silence. Only requests made while handling an update are
retried here (``InUpdate`` marks them); the outbox keeps its own pacing and retry schedule.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageCaption,
    EditMessageReplyMarkup,
    EditMessageText,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import Response

log = logging.getLogger(__name__)

# Made twice, these leave the same state as made once (a second answer is refused, a second edit
# changes nothing), so a reply lost to a 5xx or a dropped connection may be repeated; a message sent is not.
REPEATABLE: tuple[type[TelegramMethod[Any]], ...] = (
    AnswerCallbackQuery, EditMessageText, EditMessageReplyMarkup, EditMessageCaption)



@dataclass
class Replies:
    """What Telegram accepted while one update was handled."""

    press_answered: bool = False  # the button's answerCallbackQuery, whoever made it


_replies: ContextVar[Replies | None] = ContextVar("replies", default=None)


def press_answered() -> bool:
    """True once the button press being handled has been answered: Telegram refuses a second answer."""
    replies = _replies.get()
    return replies is not None and replies.press_answered


class InUpdate(BaseMiddleware):
    """Outer update middleware: marks the Telegram requests made while handling an update as replies."""

    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
        token = _replies.set(Replies())
        try:
            return await handler(event, data)
        finally:
            _replies.reset(token)


class RetryReplies(BaseRequestMiddleware):
    """Session middleware: a reply refused with 429 waits ``retry_after`` and is made again; a repeatable
    reply lost to a server or network fault is made again after a short backoff. Bounded in tries and in
    the total wait, after which the error goes to the handler as before."""

    def __init__(self, attempts: int = 5, max_wait: float = 30.0, backoff: float = 0.5) -> None:
        self.attempts = attempts
        self.max_wait = max_wait
        self.backoff = backoff

    async def __call__(self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
                       method: TelegramMethod[TelegramType]) -> Response[TelegramType]:
        replies = _replies.get()
        if replies is None:
            return await make_request(bot, method)
        response = await self._with_retries(make_request, bot, method)
        if isinstance(method, AnswerCallbackQuery):
            replies.press_answered = True
        return response

    async def _with_retries(self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
                            method: TelegramMethod[TelegramType]) -> Response[TelegramType]:
        waited = 0.0
        error: Exception
        for attempt in range(1, self.attempts + 1):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:  # refused, not made: always safe to make again
                pause, error = float(exc.retry_after), exc
            except (TelegramServerError, TelegramNetworkError) as exc:
                if not isinstance(method, REPEATABLE):
                    raise
                pause, error = self.backoff * 2 ** (attempt - 1), exc
            if attempt == self.attempts or waited + pause > self.max_wait:
                raise error
            log.warning("%s failed (%s), again in %.1f s", type(method).__name__, type(error).__name__, pause)
            started = time.monotonic()
            await asyncio.sleep(pause)
            waited += time.monotonic() - started
        raise AssertionError("unreachable")  # the loop returns or raises
