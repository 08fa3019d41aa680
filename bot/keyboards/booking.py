"""Keyboards of «Запись к врачу»: each button is the screen's callback data with a field or two changed.

Screens with a button per item (up to 36 times) add them with ``row(..., width=…)``: the builder's
``button()`` copies the whole keyboard at each call.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, TypeVar

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.keyboards.callbacks import BookCb, BookStep, QueueAction, QueueCb, VisitAction, VisitCb
from bot.texts import booking as texts
from bot.texts import common
from bot.texts.common import WEEKDAYS, clock, day_month
from core.cardfile import Person
from core.catalog import DoctorInfo, SpecialtyInfo
from core.schedule import DoctorPage, FreeTime, ScheduleCell

PAGE = 8
T = TypeVar("T")


def day_key(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def day_of(key: int) -> date:
    return date(key // 10000, key // 100 % 100, key % 100)


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def _to(cb: BookCb, **changes: Any) -> BookCb:
    """The screen's callback data with ``changes`` made: where a button of the screen leads."""
    return cb.model_copy(update=changes)


def _paged(items: Sequence[T], page: int) -> tuple[Sequence[T], bool, bool]:
    start = page * PAGE
    return items[start:start + PAGE], page > 0, start + PAGE < len(items)


def _pager(builder: InlineKeyboardBuilder, cb: BookCb, has_prev: bool, has_next: bool) -> None:
    """«Назад»/«Ещё» between pages of ``cb``'s screen."""
    nav = []
    if has_prev:
        nav.append(_button(texts.BTN_LESS, _to(cb, page=cb.page - 1)))
    if has_next:
        nav.append(_button(texts.BTN_MORE, _to(cb, page=cb.page + 1)))
    if nav:
        builder.row(*nav)


def org_short(name: str) -> str:
    return name.replace("ГБУЗ ", "").replace("«", "").replace("»", "")


def people(patients: list[Person]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.row(*(_button(f"Записать к врачу: {p.first_name} {p.last_name}",
                          BookCb(step=BookStep.PERSON, patient_id=p.id)) for p in patients), width=1)
    return builder.as_markup()


def specialties(items: list[SpecialtyInfo], patient_id: int, page: int, with_people: bool) -> InlineKeyboardMarkup:
    shown, has_prev, has_next = _paged(items, page)
    builder = InlineKeyboardBuilder()
    builder.row(*(_button(s.name, BookCb(step=BookStep.SPECIALTY, patient_id=patient_id, specialty_id=s.id))
                  for s in shown), width=1)
    _pager(builder, BookCb(step=BookStep.PERSON, patient_id=patient_id, page=page), has_prev, has_next)
    if with_people:
        builder.row(_button(common.BTN_BACK, BookCb(step=BookStep.PEOPLE)))
    return builder.as_markup()


def doctors(shown: DoctorPage, patient_id: int, page: int) -> InlineKeyboardMarkup:
    cb = BookCb(step=BookStep.SPECIALTY, patient_id=patient_id, specialty_id=shown.specialty.id, page=page)
    builder = InlineKeyboardBuilder()
    builder.row(*(_button(texts.doctor_button(c.doctor.name, org_short(c.doctor.org.name), c.next_free,
                                              c.doctor.org.timezone),
                          _to(cb, step=BookStep.DOCTOR, doctor_id=c.doctor.id, page=0))
                  for c in shown.choices), width=1)
    _pager(builder, cb, shown.has_prev, shown.has_next)
    builder.row(_button(common.BTN_BACK, BookCb(step=BookStep.PERSON, patient_id=patient_id)))
    return builder.as_markup()


def dates(days: list[date], cb: BookCb) -> InlineKeyboardMarkup:
    """A page of the free days of ``cb``'s doctor; ``cb.page`` says which."""
    shown, has_prev, has_next = _paged(days, cb.page)
    builder = InlineKeyboardBuilder()
    builder.row(*(_button(f"{WEEKDAYS[d.weekday()]} {day_month(d)}", _to(cb, step=BookStep.DAY, day=day_key(d),
                                                                         page=0))
                  for d in shown), width=2)
    _pager(builder, _to(cb, step=BookStep.DOCTOR), has_prev, has_next)
    builder.row(_button(common.BTN_BACK, _to(cb, step=BookStep.SPECIALTY, page=0)))
    return builder.as_markup()


def no_free_time(doctor: DoctorInfo, cb: BookCb) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    if doctor.org.waitlist_enabled:
        builder.button(text=texts.BTN_QUEUE,
                       callback_data=QueueCb(action=QueueAction.START, patient_id=cb.patient_id, doctor_id=doctor.id))
    builder.button(text=common.BTN_BACK, callback_data=_to(cb, step=BookStep.SPECIALTY, page=0))
    builder.adjust(1)
    return builder.as_markup()


def times(items: list[FreeTime], timezone: str, cb: BookCb) -> InlineKeyboardMarkup:
    """The free times of ``cb``'s doctor on ``cb``'s day."""
    builder = InlineKeyboardBuilder()
    builder.row(*(_button(clock(t.starts_at, timezone), _to(cb, step=BookStep.SLOT, slot_id=t.slot_id))
                  for t in items), width=4)
    builder.row(_button(texts.BTN_SCHEDULE, _to(cb, step=BookStep.DAY_VIEW)))
    builder.row(_button(common.BTN_BACK, _to(cb, step=BookStep.DOCTOR, day=0)))
    return builder.as_markup()


def summary(cb: BookCb) -> InlineKeyboardMarkup:
    """``cb`` is the chosen time (step SLOT)."""
    builder = InlineKeyboardBuilder()
    builder.button(text=texts.BTN_CONFIRM, callback_data=_to(cb, step=BookStep.CONFIRM))
    builder.button(text=common.BTN_BACK, callback_data=_to(cb, step=BookStep.DAY, slot_id=0))
    builder.button(text=texts.BTN_START_OVER, callback_data=BookCb(step=BookStep.PERSON, patient_id=cb.patient_id))
    builder.adjust(1, 2)
    return builder.as_markup()


def after_booking(appointment_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=texts.BTN_ICS, callback_data=VisitCb(action=VisitAction.ICS, appointment_id=appointment_id))
    builder.button(text=texts.BTN_CANCEL_VISIT,
                   callback_data=VisitCb(action=VisitAction.ASK, appointment_id=appointment_id))
    builder.adjust(1)
    return builder.as_markup()


def cancel_visit(appointment_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=texts.BTN_CANCEL_VISIT,
                   callback_data=VisitCb(action=VisitAction.ASK, appointment_id=appointment_id))
    return builder.as_markup()


def day_view(cells: list[ScheduleCell], timezone: str, cb: BookCb) -> InlineKeyboardMarkup:
    """The doctor's whole day (R19): own appointments open their cancel, free times book (when a person is
    chosen), taken ones stay where they are."""
    buttons = []
    for cell in cells:
        label = clock(cell.starts_at, timezone)
        if cell.own_appointment_id is not None:
            buttons.append(_button(f"🟥 {label}", VisitCb(
                action=VisitAction.ASK, appointment_id=cell.own_appointment_id, back_doctor=cb.doctor_id,
                back_day=cb.day, back_patient=cb.patient_id)))
        elif cell.free and cb.patient_id:
            buttons.append(_button(f"🟢 {label}", _to(cb, step=BookStep.SLOT, slot_id=cell.slot_id)))
        else:
            buttons.append(_button(f"⬜ {label}", _to(cb, step=BookStep.DAY_VIEW)))
    builder = InlineKeyboardBuilder()
    builder.row(*buttons, width=4)
    builder.row(_button(common.BTN_BACK, _to(cb, step=BookStep.DAY)))
    return builder.as_markup()


def cancel_confirm(cb: VisitCb) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=texts.BTN_CANCEL_OK, callback_data=cb.model_copy(update={"action": VisitAction.CANCEL}))
    builder.button(text=texts.BTN_CANCEL_KEEP, callback_data=cb.model_copy(update={"action": VisitAction.KEEP}))
    return builder.as_markup()


def after_cancel(cb: VisitCb) -> InlineKeyboardMarkup | None:
    """Back to the schedule view the cancel came from, if it came from one (R19)."""
    if not cb.back_doctor:
        return None
    builder = InlineKeyboardBuilder()
    builder.button(text=texts.BTN_BACK_TO_SCHEDULE, callback_data=BookCb(
        step=BookStep.DAY_VIEW, patient_id=cb.back_patient, doctor_id=cb.back_doctor, day=cb.back_day))
    return builder.as_markup()
