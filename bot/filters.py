"""Filters shared by conversations."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import Message

from bot.texts import common

MENU_TEXTS = frozenset((common.BTN_BOOK, common.BTN_CARDFILE, common.BTN_HELP, common.BTN_MODERATION,
                        common.BTN_RULES, common.BTN_MENU))


class Typed(Filter):
    """An answer typed into a form: not a command and not a tap on the menu keyboard, which must
    always work, even halfway through a form."""

    async def __call__(self, message: Message) -> bool:
        text = message.text
        if not text:
            return False
        return not text.startswith("/") and text not in MENU_TEXTS


TYPED = Typed()
