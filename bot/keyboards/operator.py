from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.keyboards.callbacks import RuleField, RulesCb
from bot.texts import operator as texts


def rules(orgs: list[tuple[int, str, bool]]) -> InlineKeyboardMarkup:
    """The two system rules, and the waiting list of each organization: (id, name, enabled)."""
    builder = InlineKeyboardBuilder()
    builder.button(text=texts.BTN_CUTOFF, callback_data=RulesCb(field=RuleField.CUTOFF))
    builder.button(text=texts.BTN_OFFER, callback_data=RulesCb(field=RuleField.OFFER))
    for org_id, name, enabled in orgs:
        builder.button(text=f"{texts.WAITLIST_ON if enabled else texts.WAITLIST_OFF}: {name}",
                       callback_data=RulesCb(field=RuleField.WAITLIST, organization_id=org_id, enable=not enabled))
    builder.adjust(1)
    return builder.as_markup()
