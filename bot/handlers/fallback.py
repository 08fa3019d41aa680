"""Last in line: whatever no conversation claimed."""

from __future__ import annotations

from aiogram.types import CallbackQuery, Message

from bot.handlers.start import show_entry
from bot.routing import ConversationRouter
from bot.texts import common
from core.identity import Identity

router = ConversationRouter(name=__name__)


@router.callback_query()
async def stale_button(query: CallbackQuery) -> None:
    # Buttons from old messages, after a restart, or forged: say so, change nothing.
    await query.answer(common.STALE_BUTTON, show_alert=True)


@router.message()
async def unknown(message: Message, identity: Identity, consent_text: str, esia_enabled: bool) -> None:
    if identity.account_id is None:  # a newcomer typing "здравствуйте" gets the way in, not a riddle
        await show_entry(message, identity, consent_text, esia_enabled)
        return
    await message.answer(common.UNKNOWN_INPUT)
