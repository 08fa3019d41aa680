"""Errors raised anywhere in a handler become a friendly answer, never a traceback.

A pressed button is answered once, by ``AnswerOnce`` (aiogram's ``CallbackAnswerMiddleware``) after its
handler, unless the handler answered it itself. ``AlertOnError`` runs inside it and turns the handler's
error into that answer's alert. An alert shows at most 200 characters, so a longer text goes to the
chat as a message, whole, and the alert keeps its first clause and points to the message. The error
handlers below then log and reply to messages; they never answer a button again.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot, Router
from aiogram.dispatcher.flags import get_flag
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters import ExceptionMessageFilter, ExceptionTypeFilter
from aiogram.types import CallbackQuery, ErrorEvent, TelegramObject
from aiogram.utils.callback_answer import CallbackAnswer, CallbackAnswerMiddleware

from bot.infra.telegram_retry import press_answered
from bot.texts.common import SOMETHING_WRONG
from bot.texts.errors import SEE_BELOW, error_text
from core.errors import DomainError

log = logging.getLogger(__name__)
router = Router(name=__name__)
NOT_MODIFIED = "message is not modified"  # Telegram's words for an edit that changes nothing
ALERT_LIMIT = 200  # characters Telegram shows in a button's answer; a longer one is refused


def told(exc: Exception) -> str | None:
    """What the person is told of an error; nothing for a double tap (see ``same_screen_again``)."""
    if isinstance(exc, DomainError):
        return error_text(exc)
    if isinstance(exc, TelegramBadRequest) and NOT_MODIFIED in exc.message:
        return None
    return SOMETHING_WRONG


class AnswerOnce(CallbackAnswerMiddleware):
    """aiogram's answer after the handler, made only if nobody answered the press yet, and never raising:
    an answer raising from ``finally`` would hide the handler's own error, and a late answer Telegram
    refuses («query is too old») is no error of the handler's work, which stands."""

    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, CallbackQuery):
            return await handler(event, data)
        answer = data["callback_answer"] = self.construct_callback_answer(get_flag(data, "callback_answer"))
        if not answer.disabled and answer.answered:  # answered before the handler (the «pre» flag)
            await self._answer(event, answer)
        try:
            return await handler(event, data)
        finally:
            if not answer.disabled and not answer.answered and not press_answered():
                await self._answer(event, answer)

    async def _answer(self, query: CallbackQuery, answer: CallbackAnswer) -> None:
        try:
            await self.answer(query, answer)
        except TelegramAPIError as exc:
            log.warning("the press of query %s was not answered: %s", query.id, exc.message)


class AlertOnError(BaseMiddleware):
    """Set on buttons inside ``CallbackAnswerMiddleware``: the error of a button's handler becomes the
    alert its answer shows, unless the handler chose the answer before failing; the error goes on to
    the error handlers. Whatever the answer's text, it is never cut (see ``_never_cut``)."""

    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
        answer: CallbackAnswer = data["callback_answer"]
        try:
            return await handler(event, data)
        except Exception as exc:
            text = told(exc)
            # What the handler had already said stands, and an answer made cannot be changed.
            if text is not None and answer.text is None and not answer.answered and not press_answered():
                answer.text, answer.show_alert = html.unescape(text), True  # an alert shows plain text
            raise
        finally:
            if isinstance(event, CallbackQuery):
                await _never_cut(data["bot"], event, answer)


async def _never_cut(bot: Bot, query: CallbackQuery, answer: CallbackAnswer) -> None:
    """A text too long for an alert (a refusal with the registry's phone last) is sent whole as a
    message; the answer keeps its first clause and points to the message."""
    if answer.answered or answer.disabled or answer.text is None or len(answer.text) <= ALERT_LIMIT:
        return
    # Buttons live in private chats only (IdentityMiddleware), where the chat is the user's id.
    await bot.send_message(query.from_user.id, answer.text, parse_mode=None)
    answer.text = short_form(answer.text)


def short_form(text: str) -> str:
    """«Отменить запись уже нельзя. Подробности — в сообщении ниже.»: the text up to its first stop."""
    head = re.split(r"[.:;!?\n]", text, maxsplit=1)[0].strip()
    short = f"{head}. {SEE_BELOW}"
    return short if head and len(short) <= ALERT_LIMIT else SEE_BELOW


async def _reply(event: ErrorEvent, text: str) -> None:
    if event.update.message is not None:
        await event.update.message.answer(text)


@router.error(ExceptionTypeFilter(DomainError))
async def domain_error(event: ErrorEvent) -> None:
    assert isinstance(event.exception, DomainError)
    await _reply(event, error_text(event.exception))


@router.error(ExceptionTypeFilter(TelegramBadRequest), ExceptionMessageFilter(f".*{NOT_MODIFIED}"))
async def same_screen_again(event: ErrorEvent) -> None:
    """A double tap re-renders the screen it is already on; Telegram refuses the identical edit. Harmless."""


@router.error()
async def unexpected_error(event: ErrorEvent) -> None:
    # The update id is enough to find the request; the update itself may hold personal data.
    log.error("unhandled error on update %s", event.update.update_id, exc_info=event.exception)
    await _reply(event, SOMETHING_WRONG)
