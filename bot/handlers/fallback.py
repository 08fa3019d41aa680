"""Last in line: whatever no conversation claimed."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message

from bot.texts import common

router = Router(name=__name__)


@router.callback_query()
async def stale_button(query: CallbackQuery) -> None:
    # Buttons from old messages, after a restart, or forged: say so, change nothing.
    await query.answer(common.STALE_BUTTON, show_alert=True)


@router.message()
async def unknown(message: Message) -> None:
    await message.answer(common.UNKNOWN_INPUT)
