from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.keyboards.callbacks import BookCb, BookStep, CardAction, CardCb, OfferAction, OfferCb, QueueAction, QueueCb
from bot.texts import common
from bot.texts import waitlist as texts


def _q(text: str, action: QueueAction, patient_id: int = 0, doctor_id: int = 0, entry_id: int = 0
       ) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=QueueCb(
        action=action, patient_id=patient_id, doctor_id=doctor_id, entry_id=entry_id).pack())


def _o(text: str, action: OfferAction, offer_id: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=OfferCb(action=action, offer_id=offer_id).pack())


def choose_type(patient_id: int, doctor_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[
        [_q(texts.BTN_THIS_DOCTOR, QueueAction.THIS_DOCTOR, patient_id, doctor_id)],
        [_q(texts.BTN_ANY_DOCTOR, QueueAction.ANY_DOCTOR, patient_id, doctor_id)],
        [InlineKeyboardButton(text=common.BTN_BACK, callback_data=BookCb(
            step=BookStep.DOCTOR, patient_id=patient_id, doctor_id=doctor_id).pack())],
    ])


def summary(patient_id: int, doctor_id: int, any_doctor: bool) -> InlineKeyboardMarkup:
    action = QueueAction.CONFIRM_ANY if any_doctor else QueueAction.CONFIRM_DOCTOR
    return InlineKeyboardMarkup(inline_keyboard=[
        [_q(texts.BTN_CONFIRM, action, patient_id, doctor_id)],
        [_q(common.BTN_BACK, QueueAction.START, patient_id, doctor_id)],
    ])


def offer(offer_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        _o(texts.BTN_CONFIRM, OfferAction.CONFIRM, offer_id),
        _o(texts.BTN_DECLINE, OfferAction.DECLINE_ASK, offer_id),
    ]])


def decline_confirm(offer_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        _o(texts.BTN_DECLINE_OK, OfferAction.DECLINE, offer_id),
        _o(texts.BTN_DECLINE_KEEP, OfferAction.KEEP, offer_id),
    ]])


def queue_rows(entry_id: int, offer_id: int | None) -> list[list[InlineKeyboardButton]]:
    rows = []
    if offer_id is not None:
        rows.append([_o(texts.BTN_CONFIRM, OfferAction.CONFIRM, offer_id),
                     _o(texts.BTN_DECLINE, OfferAction.DECLINE_ASK, offer_id)])
    rows.append([_q(texts.BTN_LEAVE, QueueAction.LEAVE_ASK, entry_id=entry_id)])
    return rows


def leave_confirm(entry_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        _q(texts.BTN_LEAVE_OK, QueueAction.LEAVE, entry_id=entry_id),
        InlineKeyboardButton(text=common.BTN_BACK, callback_data=CardCb(action=CardAction.LIST).pack()),
    ]])
