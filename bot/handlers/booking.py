"""«Запись к врачу» (R5–R7): person → specialty → doctor → date → time → confirm."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.handlers.common import message_of
from bot.keyboards import booking as kb
from bot.keyboards.callbacks import BookCb, BookStep
from bot.texts import booking as texts
from bot.texts import common
from bot.texts.errors import error_text
from core.booking import BookingService
from core.cardfile import Person
from core.errors import SlotTaken
from core.identity import Identity
from core.schedule import ScheduleService

router = Router(name=__name__)


async def _specialties(message: Message, patient: Person, page: int, schedule: ScheduleService,
                       with_people: bool, *, edit: bool) -> None:
    items = await schedule.specialties()
    if not items:
        await message.answer(texts.NO_SPECIALTIES)
        return
    text = texts.SPECIALTY.format(who=texts.who(patient.full_name))
    markup = kb.specialties(items, patient.id, page, with_people)
    if edit:
        await message.edit_text(text, reply_markup=markup)
    else:
        await message.answer(text, reply_markup=markup)


@router.message(Command("book"))
@router.message(F.text == common.BTN_BOOK)
async def start(message: Message, identity: Identity, booking: BookingService, schedule: ScheduleService) -> None:
    people, chosen = await booking.start(identity)
    if not people:
        await message.answer(texts.NO_PEOPLE)
    elif chosen is not None:  # R5: the only person is chosen automatically
        await _specialties(message, chosen, 0, schedule, with_people=False, edit=False)
    else:
        await message.answer(texts.WHO, reply_markup=kb.people(people))


@router.callback_query(BookCb.filter(F.step == BookStep.PEOPLE))
async def choose_person(query: CallbackQuery, identity: Identity, booking: BookingService) -> None:
    people = await booking.bookable_people(identity)
    await message_of(query).edit_text(texts.WHO, reply_markup=kb.people(people))


@router.callback_query(BookCb.filter(F.step == BookStep.PERSON))
async def person(query: CallbackQuery, callback_data: BookCb, identity: Identity, booking: BookingService,
                 schedule: ScheduleService) -> None:
    patient, several = await booking.choose(identity, callback_data.patient_id)
    await _specialties(message_of(query), patient, callback_data.page, schedule, with_people=several, edit=True)


@router.callback_query(BookCb.filter(F.step == BookStep.SPECIALTY))
async def specialty(query: CallbackQuery, callback_data: BookCb, schedule: ScheduleService) -> None:
    # Display only: the person is authorized again when the booking is confirmed.
    shown = await schedule.doctors(callback_data.specialty_id, callback_data.page, kb.PAGE)
    markup = kb.doctors(shown, callback_data.patient_id, callback_data.page)
    await message_of(query).edit_text(texts.doctors(shown.specialty), reply_markup=markup)


async def _show_dates(message: Message, callback_data: BookCb, schedule: ScheduleService) -> None:
    chosen, days = await schedule.free_dates(callback_data.doctor_id)
    if not days:
        # R8: no free time; the queue is offered where the organization keeps one.
        await message.edit_text(texts.no_free_time(chosen, schedule.horizon.days),
                                reply_markup=kb.no_free_time(chosen, callback_data))
        return
    await message.edit_text(texts.dates(chosen), reply_markup=kb.dates(days, callback_data))


async def _show_day(message: Message, callback_data: BookCb, schedule: ScheduleService) -> None:
    chosen_day = kb.day_of(callback_data.day)
    chosen, free = await schedule.free_times(callback_data.doctor_id, chosen_day)
    if not free:
        _, days = await schedule.free_dates(callback_data.doctor_id)
        await message.edit_text(texts.day_gone(chosen, chosen_day),
                                reply_markup=kb.dates(days, callback_data) if days
                                else kb.no_free_time(chosen, callback_data))
        return
    await message.edit_text(texts.times(chosen, chosen_day),
                            reply_markup=kb.times(free, chosen.org.timezone, callback_data))


@router.callback_query(BookCb.filter(F.step == BookStep.DOCTOR))
async def doctor(query: CallbackQuery, callback_data: BookCb, schedule: ScheduleService) -> None:
    await _show_dates(message_of(query), callback_data, schedule)


@router.callback_query(BookCb.filter(F.step == BookStep.DAY))
async def day(query: CallbackQuery, callback_data: BookCb, schedule: ScheduleService) -> None:
    await _show_day(message_of(query), callback_data, schedule)


@router.callback_query(BookCb.filter(F.step == BookStep.DAY_VIEW))
async def day_view(query: CallbackQuery, callback_data: BookCb, identity: Identity,
                   schedule: ScheduleService) -> None:
    chosen_day = kb.day_of(callback_data.day)
    chosen, cells = await schedule.day_view(identity, callback_data.doctor_id, chosen_day)
    await message_of(query).edit_text(texts.day_view(chosen, chosen_day),
                                      reply_markup=kb.day_view(cells, chosen.org.timezone, callback_data))


@router.callback_query(BookCb.filter(F.step == BookStep.SLOT))
async def slot(query: CallbackQuery, callback_data: BookCb, identity: Identity, booking: BookingService,
               schedule: ScheduleService) -> None:
    patient, chosen, starts_at = await booking.preview(identity, callback_data.patient_id, callback_data.slot_id)
    await message_of(query).edit_text(texts.summary(chosen, starts_at, patient.full_name),
                                      reply_markup=kb.summary(callback_data))


@router.callback_query(BookCb.filter(F.step == BookStep.CONFIRM))
async def confirm(query: CallbackQuery, callback_data: BookCb, identity: Identity, booking: BookingService,
                  schedule: ScheduleService, callback_answer: CallbackAnswer) -> None:
    try:
        view = await booking.book(identity, callback_data.patient_id, callback_data.slot_id)
    except SlotTaken as exc:
        # R7: the loser is told and sees fresh times of the same day, on the same screen.
        callback_answer.text, callback_answer.show_alert = error_text(exc), True
        await _show_day(message_of(query), callback_data.model_copy(update={"step": BookStep.DAY, "slot_id": 0}),
                        schedule)
        return
    # Said in the answer too: a repeated press finds the screen already saying it (Telegram refuses
    # the identical edit), and still learns the outcome.
    callback_answer.text = texts.BOOKED
    await message_of(query).edit_text(texts.booked(view), reply_markup=kb.after_booking(view.id))
