from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.keyboards.callbacks import ModAction, ModCb
from bot.texts import moderation as texts
from storage.models import Patient


def decision(patient_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=texts.BTN_CONFIRM,
                             callback_data=ModCb(action=ModAction.CONFIRM, patient_id=patient_id).pack()),
        InlineKeyboardButton(text=texts.BTN_REJECT,
                             callback_data=ModCb(action=ModAction.REJECT, patient_id=patient_id).pack()),
    ]])


def pending(people: list[Patient]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text=f"{p.last_name} {p.first_name[:1]}. — {p.submitted_at:%d.%m %H:%M} UTC",
                              callback_data=ModCb(action=ModAction.OPEN, patient_id=p.id).pack())]
        for p in people
    ])
