"""Last in line: whatever no conversation claimed."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.handlers.start import show_entry
from bot.texts import common
from core.identity import Identity

router = Router(name=__name__)


@router.callback_query()
async def stale_button(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    # Buttons from old messages, after a restart, or forged: say so, change nothing.
    callback_answer.text, callback_answer.show_alert = common.STALE_BUTTON, True


@router.message()
async def unknown(message: Message, identity: Identity, consent_text: str, esia_enabled: bool) -> None:
    if identity.account_id is None:  # a newcomer typing "здравствуйте" gets the way in, not a riddle
        await show_entry(message, identity, consent_text, esia_enabled)
        return
    await message.answer(common.UNKNOWN_INPUT)
