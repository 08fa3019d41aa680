"""Filters shared by conversations."""

from __future__ import annotations

from aiogram import F
from aiogram.utils.magic_filter import MagicFilter

from bot.texts import common

MENU_TEXTS = (common.BTN_BOOK, common.BTN_CARDFILE, common.BTN_HELP, common.BTN_MODERATION,
              common.BTN_RULES, common.BTN_MENU)

# An answer typed into a form: not a command and not a tap on the menu keyboard, which must
# always work, even halfway through a form.
TYPED: MagicFilter = F.text & ~F.text.startswith("/") & ~F.text.in_(MENU_TEXTS)
