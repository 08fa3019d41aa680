from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.keyboards.callbacks import BookCb, BookStep, CardAction, CardCb, OfferAction, OfferCb, QueueAction, QueueCb
from bot.texts import common
from bot.texts import waitlist as texts


def choose_type(patient_id: int, doctor_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=texts.BTN_THIS_DOCTOR,
                   callback_data=QueueCb(action=QueueAction.THIS_DOCTOR, patient_id=patient_id, doctor_id=doctor_id))
    builder.button(text=texts.BTN_ANY_DOCTOR,
                   callback_data=QueueCb(action=QueueAction.ANY_DOCTOR, patient_id=patient_id, doctor_id=doctor_id))
    builder.button(text=common.BTN_BACK,
                   callback_data=BookCb(step=BookStep.DOCTOR, patient_id=patient_id, doctor_id=doctor_id))
    builder.adjust(1)
    return builder.as_markup()


def summary(patient_id: int, doctor_id: int, any_doctor: bool) -> InlineKeyboardMarkup:
    action = QueueAction.CONFIRM_ANY if any_doctor else QueueAction.CONFIRM_DOCTOR
    builder = InlineKeyboardBuilder()
    builder.button(text=texts.BTN_CONFIRM, callback_data=QueueCb(action=action, patient_id=patient_id,
                                                                 doctor_id=doctor_id))
    builder.button(text=common.BTN_BACK, callback_data=QueueCb(action=QueueAction.START, patient_id=patient_id,
                                                               doctor_id=doctor_id))
    builder.adjust(1)
    return builder.as_markup()


def offer(offer_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=texts.BTN_CONFIRM, callback_data=OfferCb(action=OfferAction.CONFIRM, offer_id=offer_id))
    builder.button(text=texts.BTN_DECLINE, callback_data=OfferCb(action=OfferAction.DECLINE_ASK, offer_id=offer_id))
    return builder.as_markup()


def decline_confirm(offer_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=texts.BTN_DECLINE_OK, callback_data=OfferCb(action=OfferAction.DECLINE, offer_id=offer_id))
    builder.button(text=texts.BTN_DECLINE_KEEP, callback_data=OfferCb(action=OfferAction.KEEP, offer_id=offer_id))
    return builder.as_markup()


def queue_rows(entry_id: int, offer_id: int | None) -> InlineKeyboardBuilder:
    """The rows of one queue entry in «Моя картотека»: the pending offer's answers, and leaving."""
    builder = InlineKeyboardBuilder()
    if offer_id is not None:
        builder.attach(InlineKeyboardBuilder.from_markup(offer(offer_id)))
    builder.row(InlineKeyboardButton(text=texts.BTN_LEAVE,
                                     callback_data=QueueCb(action=QueueAction.LEAVE_ASK, entry_id=entry_id).pack()))
    return builder


def leave_confirm(entry_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=texts.BTN_LEAVE_OK, callback_data=QueueCb(action=QueueAction.LEAVE, entry_id=entry_id))
    builder.button(text=common.BTN_BACK, callback_data=CardCb(action=CardAction.LIST))
    return builder.as_markup()
