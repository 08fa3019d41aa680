"""An appointment's own buttons: «Отменить визит» → «Ок» (R16–R19) and the calendar file."""

from __future__ import annotations

from aiogram.types import BufferedInputFile, CallbackQuery

from bot.handlers.common import message_of
from bot.ics import appointment_ics
from bot.keyboards import booking as kb
from bot.keyboards.callbacks import VisitAction, VisitCb
from bot.routing import ConversationRouter
from bot.texts import booking as texts
from core.booking import BookingService
from core.clock import Clock
from core.identity import Identity

router = ConversationRouter(name=__name__)


@router.callback_query(VisitCb.filter(action=VisitAction.ASK))
async def ask(query: CallbackQuery, callback_data: VisitCb, identity: Identity, booking: BookingService) -> None:
    view = await booking.appointment(identity, callback_data.appointment_id)
    await query.answer()
    await message_of(query).edit_text(texts.cancel_ask(view), reply_markup=kb.cancel_confirm(callback_data))


@router.callback_query(VisitCb.filter(action=VisitAction.CANCEL))
async def cancel(query: CallbackQuery, callback_data: VisitCb, identity: Identity, booking: BookingService) -> None:
    view = await booking.cancel(identity, callback_data.appointment_id)
    await query.answer(texts.CANCELLED)
    await message_of(query).edit_text(texts.cancelled(view), reply_markup=kb.after_cancel(callback_data))


@router.callback_query(VisitCb.filter(action=VisitAction.KEEP))
async def keep(query: CallbackQuery, callback_data: VisitCb, identity: Identity, booking: BookingService) -> None:
    view = await booking.appointment(identity, callback_data.appointment_id)
    await query.answer()
    await message_of(query).edit_text(texts.booked(view), reply_markup=kb.after_booking(view.id))


@router.callback_query(VisitCb.filter(action=VisitAction.ICS))
async def calendar_file(query: CallbackQuery, callback_data: VisitCb, identity: Identity, booking: BookingService,
                        clock: Clock) -> None:
    view = await booking.appointment(identity, callback_data.appointment_id)
    await query.answer()
    await message_of(query).answer_document(
        BufferedInputFile(appointment_ics(view, clock.now()), filename=f"appointment-{view.id}.ics"))
