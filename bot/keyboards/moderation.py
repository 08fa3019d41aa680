from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.keyboards.callbacks import ModAction, ModCb
from bot.texts import moderation as texts
from storage.models import Patient


def decision(patient_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=texts.BTN_CONFIRM, callback_data=ModCb(action=ModAction.CONFIRM, patient_id=patient_id))
    builder.button(text=texts.BTN_REJECT, callback_data=ModCb(action=ModAction.REJECT, patient_id=patient_id))
    return builder.as_markup()


def pending(people: list[Patient]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for p in people:
        builder.button(text=f"{p.last_name} {p.first_name[:1]}. — {p.submitted_at:%d.%m %H:%M} UTC",
                       callback_data=ModCb(action=ModAction.OPEN, patient_id=p.id))
    builder.adjust(1)
    return builder.as_markup()
