from __future__ import annotations

from datetime import datetime

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.keyboards import waitlist as waitlist_kb
from bot.keyboards.callbacks import BookCb, BookStep, CardAction, CardCb, VisitAction, VisitCb
from bot.texts import booking as booking_texts
from bot.texts import cardfile as texts
from bot.texts import common
from bot.texts.common import local
from core.enums import ModerationStatus
from core.visits import PersonVisits
from storage.models import Patient


def overview(people: list[Patient]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for p in people:
        builder.button(text=p.full_name, callback_data=CardCb(action=CardAction.OPEN, patient_id=p.id))
    if any(p.is_owner for p in people):
        builder.button(text=texts.BTN_ADD, callback_data=CardCb(action=CardAction.ADD))
    builder.adjust(1)
    return builder.as_markup()


def person(card: PersonVisits, now: datetime) -> InlineKeyboardMarkup:
    patient = card.patient
    builder = InlineKeyboardBuilder()
    if patient.status == ModerationStatus.CONFIRMED:
        builder.button(text=texts.BTN_BOOK, callback_data=BookCb(step=BookStep.PERSON, patient_id=patient.id))
    for visit in card.future:
        if visit.cancellable(now):  # R18: «Отменить визит» on the appointment's row
            when = local(visit.starts_at, visit.doctor.org.timezone)
            surname = visit.doctor.name.split()[0]
            builder.button(text=f"{booking_texts.BTN_CANCEL_VISIT}: {when:%d.%m %H:%M}, {surname}",
                           callback_data=VisitCb(action=VisitAction.ASK, appointment_id=visit.id))
    builder.adjust(1)
    for item in card.queue:  # R11, R14: «Подтвердить» while an offer is pending, «Отменить визит»
        builder.attach(waitlist_kb.queue_rows(item.entry_id, item.offer.offer_id if item.offer else None))
    last = InlineKeyboardBuilder()
    if patient.status == ModerationStatus.REJECTED:
        last.button(text=texts.BTN_FIX, callback_data=CardCb(action=CardAction.FIX, patient_id=patient.id))
    if not patient.is_owner:
        last.button(text=texts.BTN_REMOVE, callback_data=CardCb(action=CardAction.REMOVE, patient_id=patient.id))
    last.button(text=common.BTN_BACK, callback_data=CardCb(action=CardAction.LIST))
    last.adjust(1)
    builder.attach(last)
    return builder.as_markup()


def confirm_remove(patient_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=texts.BTN_REMOVE_OK, callback_data=CardCb(action=CardAction.REMOVE_OK, patient_id=patient_id))
    builder.button(text=common.BTN_BACK, callback_data=CardCb(action=CardAction.OPEN, patient_id=patient_id))
    return builder.as_markup()
