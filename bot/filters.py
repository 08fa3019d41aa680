"""Filters shared by conversations.

Classes, not ``F.text == …``: aiogram runs a plain callable filter (a magic filter is one) in a
worker thread, so each handler it tries costs a thread round trip; a ``Filter`` is awaited in place.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.filters import Command, CommandStart, Filter
from aiogram.types import Message

from bot.texts import common

MENU_TEXTS = frozenset((common.BTN_BOOK, common.BTN_CARDFILE, common.BTN_HELP, common.BTN_MODERATION,
                        common.BTN_RULES, common.BTN_MENU))


class MenuButton(Filter):
    """A tap on one button of the menu keyboard: the message is exactly its text."""

    def __init__(self, text: str) -> None:
        self.text = text

    async def __call__(self, message: Message) -> bool:
        return message.text == self.text


class Typed(Filter):
    """An answer typed into a form: not a command and not a tap on the menu keyboard, which must
    always work, even halfway through a form."""

    async def __call__(self, message: Message) -> bool:
        text = message.text
        if not text:
            return False
        return not text.startswith("/") and text not in MENU_TEXTS


TYPED = Typed()


class _NotACommandFirst:
    """Mixed in before aiogram's ``Command``: a message that is no command at all is turned away
    before aiogram parses it, which it does by raising and catching an exception. A tap on a menu
    button was tried against eight command handlers on its way to its own."""

    prefix: str

    async def __call__(self, message: Message, bot: Bot) -> bool | dict[str, Any]:
        text = (message.text or message.caption or "").lstrip() if isinstance(message, Message) else ""
        if not text or text[0] not in self.prefix:
            return False
        return await super().__call__(message, bot)  # type: ignore[misc, no-any-return]


class Cmd(_NotACommandFirst, Command):
    """``Command``, turning away what is no command at once."""


class CmdStart(_NotACommandFirst, CommandStart):
    """``CommandStart``, turning away what is no command at once."""
