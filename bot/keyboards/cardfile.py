from __future__ import annotations

from datetime import datetime

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.keyboards import waitlist as waitlist_kb
from bot.keyboards.buttons import button
from bot.keyboards.callbacks import BookCb, BookStep, CardAction, CardCb, VisitAction, VisitCb
from bot.texts import booking as booking_texts
from bot.texts import cardfile as texts
from bot.texts import common
from bot.texts.common import local
from core.enums import ModerationStatus
from core.visits import PersonVisits
from storage.models import Patient


def _button(text: str, action: CardAction, patient_id: int = 0) -> InlineKeyboardButton:
    return button(text, CardCb(action=action, patient_id=patient_id).pack())


def overview(people: list[Patient]) -> InlineKeyboardMarkup:
    rows = [[_button(p.full_name, CardAction.OPEN, p.id)] for p in people]
    if any(p.is_owner for p in people):
        rows.append([_button(texts.BTN_ADD, CardAction.ADD)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def person(card: PersonVisits, now: datetime) -> InlineKeyboardMarkup:
    patient = card.patient
    rows: list[list[InlineKeyboardButton]] = []
    if patient.status == ModerationStatus.CONFIRMED:
        rows.append([button(texts.BTN_BOOK, BookCb(step=BookStep.PERSON, patient_id=patient.id).pack())])
    for visit in card.future:
        if visit.cancellable(now):  # R18: «Отменить визит» on the appointment's row
            when = local(visit.starts_at, visit.doctor.org.timezone)
            surname = visit.doctor.name.split()[0]
            label = f"{booking_texts.BTN_CANCEL_VISIT}: {when:%d.%m %H:%M}, {surname}"
            rows.append([button(label, VisitCb(action=VisitAction.ASK, appointment_id=visit.id).pack())])
    for item in card.queue:  # R11, R14: «Подтвердить» while an offer is pending, «Отменить визит»
        rows.extend(waitlist_kb.queue_rows(item.entry_id, item.offer.offer_id if item.offer else None))
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
