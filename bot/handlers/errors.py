"""Domain errors raised anywhere in a handler become a friendly answer, never a traceback."""

from __future__ import annotations

import logging

from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import ExceptionMessageFilter, ExceptionTypeFilter
from aiogram.types import ErrorEvent

from bot.routing import ConversationRouter
from bot.texts.common import SOMETHING_WRONG
from bot.texts.errors import error_text
from core.errors import DomainError

log = logging.getLogger(__name__)
router = ConversationRouter(name=__name__)


async def _tell(event: ErrorEvent, text: str) -> None:
    update = event.update
    if update.callback_query is not None:
        await update.callback_query.answer(text[:200], show_alert=True)
    elif update.message is not None:
        await update.message.answer(text)


@router.error(ExceptionTypeFilter(DomainError))
async def domain_error(event: ErrorEvent) -> None:
    assert isinstance(event.exception, DomainError)
    await _tell(event, error_text(event.exception))


@router.error(ExceptionTypeFilter(TelegramBadRequest), ExceptionMessageFilter(r".*message is not modified"))
async def same_screen_again(event: ErrorEvent) -> None:
    """A double tap re-renders the screen it is already on; Telegram refuses the identical edit. Harmless."""


@router.error()
async def unexpected_error(event: ErrorEvent) -> None:
    # The update id is enough to find the request; the update itself may hold personal data.
    log.error("unhandled error on update %s", event.update.update_id, exc_info=event.exception)
    await _tell(event, SOMETHING_WRONG)
