"""«Встать в очередь» (R8, R9), offers (R10–R13, R15) and leaving the queue (R14)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery
from aiogram.utils.callback_answer import CallbackAnswer

from bot.handlers.common import message_of
from bot.keyboards import booking as booking_kb
from bot.keyboards import waitlist as kb
from bot.keyboards.callbacks import OfferAction, OfferCb, QueueAction, QueueCb
from bot.texts import booking as booking_texts
from bot.texts import waitlist as texts
from core.booking import BookingService
from core.catalog import Catalog
from core.identity import Identity
from core.waitlist import WaitlistService

router = Router(name=__name__)


@router.callback_query(QueueCb.filter(F.action == QueueAction.START))
async def choose_type(query: CallbackQuery, callback_data: QueueCb, identity: Identity,
                      booking: BookingService) -> None:
    await booking.check_patient(identity, callback_data.patient_id)
    await message_of(query).edit_text(texts.CHOOSE_TYPE,
                                      reply_markup=kb.choose_type(callback_data.patient_id, callback_data.doctor_id))


@router.callback_query(QueueCb.filter(F.action.in_({QueueAction.THIS_DOCTOR, QueueAction.ANY_DOCTOR})))
async def summary(query: CallbackQuery, callback_data: QueueCb, identity: Identity, booking: BookingService,
                  catalog: Catalog) -> None:
    patient = await booking.check_patient(identity, callback_data.patient_id)
    doctor = await catalog.doctor(callback_data.doctor_id)
    any_doctor = callback_data.action == QueueAction.ANY_DOCTOR
    await message_of(query).edit_text(texts.summary(doctor, any_doctor, patient.full_name),
                                      reply_markup=kb.summary(patient.id, doctor.id, any_doctor))


@router.callback_query(QueueCb.filter(F.action.in_({QueueAction.CONFIRM_DOCTOR, QueueAction.CONFIRM_ANY})))
async def join(query: CallbackQuery, callback_data: QueueCb, identity: Identity, waitlist: WaitlistService) -> None:
    joined = await waitlist.join(identity, callback_data.patient_id, callback_data.doctor_id,
                                 any_doctor=callback_data.action == QueueAction.CONFIRM_ANY)
    await message_of(query).edit_text(texts.joined(joined.position))


@router.callback_query(OfferCb.filter(F.action == OfferAction.CONFIRM))
async def confirm(query: CallbackQuery, callback_data: OfferCb, identity: Identity, waitlist: WaitlistService,
                  booking: BookingService) -> None:
    appointment = await waitlist.confirm(identity, callback_data.offer_id)
    view = await booking.appointment(identity, appointment.id)
    await message_of(query).edit_text(booking_texts.booked(view), reply_markup=booking_kb.after_booking(view.id))


@router.callback_query(OfferCb.filter(F.action == OfferAction.DECLINE_ASK))
async def decline_ask(query: CallbackQuery, callback_data: OfferCb) -> None:
    # R12: asked in a message of its own, so the offer itself stays readable above it.
    await message_of(query).answer(texts.DECLINE_ASK, reply_markup=kb.decline_confirm(callback_data.offer_id))


@router.callback_query(OfferCb.filter(F.action == OfferAction.KEEP))
async def keep(query: CallbackQuery, callback_data: OfferCb, identity: Identity, waitlist: WaitlistService) -> None:
    await waitlist.offer_details(identity, callback_data.offer_id)  # authorizes the id
    await message_of(query).edit_text(texts.KEPT, reply_markup=kb.offer(callback_data.offer_id))


@router.callback_query(OfferCb.filter(F.action == OfferAction.DECLINE))
async def decline(query: CallbackQuery, callback_data: OfferCb, identity: Identity, waitlist: WaitlistService) -> None:
    outcome = await waitlist.decline(identity, callback_data.offer_id)
    if outcome.entry_closed:  # told here only: a decline sends no second message (R13)
        await message_of(query).edit_text(texts.exhausted("declined"))
    else:
        await message_of(query).edit_text(texts.declined(outcome.offers_left, outcome.position))


@router.callback_query(QueueCb.filter(F.action == QueueAction.LEAVE_ASK))
async def leave_ask(query: CallbackQuery, callback_data: QueueCb) -> None:
    await message_of(query).edit_text(texts.LEAVE_ASK, reply_markup=kb.leave_confirm(callback_data.entry_id))


@router.callback_query(QueueCb.filter(F.action == QueueAction.LEAVE))
async def leave(query: CallbackQuery, callback_data: QueueCb, identity: Identity, waitlist: WaitlistService,
                callback_answer: CallbackAnswer) -> None:
    await waitlist.leave(identity, callback_data.entry_id)
    callback_answer.text = texts.LEFT
    await message_of(query).edit_text(texts.LEFT)
