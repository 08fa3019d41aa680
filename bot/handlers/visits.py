"""An appointment's own buttons: «Отменить визит» → «Ок» (R16–R19) and the calendar file."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import BufferedInputFile, CallbackQuery
from aiogram.utils.callback_answer import CallbackAnswer

from bot.handlers.common import message_of
from bot.ics import appointment_ics
from bot.keyboards import booking as kb
from bot.keyboards.callbacks import VisitAction, VisitCb
from bot.texts import booking as texts
from core.booking import BookingService
from core.clock import Clock
from core.identity import Identity

router = Router(name=__name__)


@router.callback_query(VisitCb.filter(F.action == VisitAction.ASK))
async def ask(query: CallbackQuery, callback_data: VisitCb, identity: Identity, booking: BookingService) -> None:
    view = await booking.appointment(identity, callback_data.appointment_id)
    await message_of(query).edit_text(texts.cancel_ask(view), reply_markup=kb.cancel_confirm(callback_data))


@router.callback_query(VisitCb.filter(F.action == VisitAction.CANCEL))
async def cancel(query: CallbackQuery, callback_data: VisitCb, identity: Identity, booking: BookingService,
                 callback_answer: CallbackAnswer) -> None:
    view = await booking.cancel(identity, callback_data.appointment_id)
    callback_answer.text = texts.CANCELLED
    await message_of(query).edit_text(texts.cancelled(view), reply_markup=kb.after_cancel(callback_data))


@router.callback_query(VisitCb.filter(F.action == VisitAction.KEEP))
async def keep(query: CallbackQuery, callback_data: VisitCb, identity: Identity, booking: BookingService) -> None:
    view = await booking.appointment(identity, callback_data.appointment_id)
    await message_of(query).edit_text(texts.booked(view), reply_markup=kb.after_booking(view.id))


@router.callback_query(VisitCb.filter(F.action == VisitAction.ICS))
async def calendar_file(query: CallbackQuery, callback_data: VisitCb, identity: Identity, booking: BookingService,
                        clock: Clock) -> None:
    view = await booking.appointment(identity, callback_data.appointment_id)
    await message_of(query).answer_document(
        BufferedInputFile(appointment_ics(view, clock.now()), filename=f"appointment-{view.id}.ics"))
