"""Small helpers every conversation uses."""

from __future__ import annotations

from aiogram.types import CallbackQuery, Message

from core.errors import StaleButton


def message_of(query: CallbackQuery) -> Message:
    if not isinstance(query.message, Message):
        raise StaleButton()
    return query.message
