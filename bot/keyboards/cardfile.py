from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.keyboards.callbacks import CardAction, CardCb
from bot.texts import cardfile as texts
from bot.texts import common
from core.enums import ModerationStatus
from storage.models import Patient


def _button(text: str, action: CardAction, patient_id: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=CardCb(action=action, patient_id=patient_id).pack())


def overview(people: list[Patient]) -> InlineKeyboardMarkup:
    rows = [[_button(p.full_name, CardAction.OPEN, p.id)] for p in people]
    if any(p.is_owner for p in people):
        rows.append([_button(texts.BTN_ADD, CardAction.ADD)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def person(patient: Patient, extra: list[list[InlineKeyboardButton]] | None = None) -> InlineKeyboardMarkup:
    rows = list(extra or [])
    if patient.status == ModerationStatus.REJECTED:
        rows.append([_button(texts.BTN_FIX, CardAction.FIX, patient.id)])
    if not patient.is_owner:
        rows.append([_button(texts.BTN_REMOVE, CardAction.REMOVE, patient.id)])
    rows.append([_button(common.BTN_BACK, CardAction.LIST)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def confirm_remove(patient_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        _button(texts.BTN_REMOVE_OK, CardAction.REMOVE_OK, patient_id),
        _button(common.BTN_BACK, CardAction.OPEN, patient_id),
    ]])
