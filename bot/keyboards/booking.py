from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import TypeVar

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.keyboards.buttons import button
from bot.keyboards.callbacks import BookCb, BookStep, QueueAction, QueueCb, VisitAction, VisitCb
from bot.texts import booking as texts
from bot.texts import common
from bot.texts.common import WEEKDAYS, clock, day_month
from core.cardfile import Person
from core.catalog import DoctorInfo, SpecialtyInfo
from core.schedule import DoctorPage, FreeTime, ScheduleCell

PAGE = 8
T = TypeVar("T")
Rows = list[list[InlineKeyboardButton]]


def day_key(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def day_of(key: int) -> date:
    return date(key // 10000, key // 100 % 100, key % 100)


def _b(text: str, cb: BookCb | VisitCb, **changes: object) -> InlineKeyboardButton:
    """A button of ``cb`` with ``changes`` made to it."""
    return button(text, cb.pack_with(**changes))


def _paged(items: Sequence[T], page: int) -> tuple[Sequence[T], bool, bool]:
    start = page * PAGE
    return items[start:start + PAGE], page > 0, start + PAGE < len(items)


def _pager(rows: Rows, cb: BookCb, has_prev: bool, has_next: bool, **changes: object) -> None:
    nav = []
    if has_prev:
        nav.append(_b(texts.BTN_LESS, cb, **changes, page=cb.page - 1))
    if has_next:
        nav.append(_b(texts.BTN_MORE, cb, **changes, page=cb.page + 1))
    if nav:
        rows.append(nav)


def org_short(name: str) -> str:
    return name.replace("ГБУЗ ", "").replace("«", "").replace("»", "")


def people(patients: list[Person]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[
        [_b(f"Записать к врачу: {p.first_name} {p.last_name}", BookCb(step=BookStep.PERSON, patient_id=p.id))]
        for p in patients
    ])


def _buttons(texts: Iterable[str], packed: Iterable[str]) -> list[InlineKeyboardButton]:
    return [button(text, data) for text, data in zip(texts, packed, strict=True)]


def specialties(items: list[SpecialtyInfo], patient_id: int, page: int, with_people: bool) -> InlineKeyboardMarkup:
    shown, has_prev, has_next = _paged(items, page)
    each = BookCb(step=BookStep.SPECIALTY, patient_id=patient_id).pack_each("specialty_id", [s.id for s in shown])
    rows: Rows = [[button] for button in _buttons([s.name for s in shown], each)]
    _pager(rows, BookCb(step=BookStep.PERSON, patient_id=patient_id, page=page), has_prev, has_next)
    if with_people:
        rows.append([_b(common.BTN_BACK, BookCb(step=BookStep.PEOPLE))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def doctors(shown: DoctorPage, patient_id: int, page: int) -> InlineKeyboardMarkup:
    specialty_id = shown.specialty.id
    each = BookCb(step=BookStep.DOCTOR, patient_id=patient_id, specialty_id=specialty_id).pack_each(
        "doctor_id", [c.doctor.id for c in shown.choices])
    rows: Rows = [[button] for button in _buttons(
        [texts.doctor_button(c.doctor.name, org_short(c.doctor.org.name), c.next_free, c.doctor.org.timezone)
         for c in shown.choices], each)]
    _pager(rows, BookCb(step=BookStep.SPECIALTY, patient_id=patient_id, specialty_id=specialty_id, page=page),
           shown.has_prev, shown.has_next)
    rows.append([_b(common.BTN_BACK, BookCb(step=BookStep.PERSON, patient_id=patient_id))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def dates(days: list[date], cb: BookCb, extra: Rows | None = None) -> InlineKeyboardMarkup:
    shown, has_prev, has_next = _paged(days, cb.page)
    each = cb.pack_each("day", [day_key(d) for d in shown], step=BookStep.DAY, page=0)
    buttons = _buttons([f"{WEEKDAYS[d.weekday()]} {day_month(d)}" for d in shown], each)
    rows: Rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    _pager(rows, cb, has_prev, has_next, step=BookStep.DOCTOR)
    rows.extend(extra or [])
    rows.append([_b(common.BTN_BACK, cb, step=BookStep.SPECIALTY, page=0)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def no_free_time(doctor: DoctorInfo, cb: BookCb) -> InlineKeyboardMarkup:
    rows: Rows = []
    if doctor.org.waitlist_enabled:
        rows.append([button(texts.BTN_QUEUE,
                            QueueCb(action=QueueAction.START, patient_id=cb.patient_id, doctor_id=doctor.id).pack())])
    rows.append([_b(common.BTN_BACK, cb, step=BookStep.SPECIALTY, page=0)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def times(items: list[FreeTime], timezone: str, cb: BookCb) -> InlineKeyboardMarkup:
    each = cb.pack_each("slot_id", [t.slot_id for t in items], step=BookStep.SLOT)
    buttons = _buttons([clock(t.starts_at, timezone) for t in items], each)
    rows: Rows = [buttons[i:i + 4] for i in range(0, len(buttons), 4)]
    rows.append([_b(texts.BTN_SCHEDULE, cb, step=BookStep.DAY_VIEW)])
    rows.append([_b(common.BTN_BACK, cb, step=BookStep.DOCTOR, day=0)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def summary(cb: BookCb) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[
        [_b(texts.BTN_CONFIRM, cb, step=BookStep.CONFIRM)],
        [_b(common.BTN_BACK, cb, step=BookStep.DAY, slot_id=0),
         _b(texts.BTN_START_OVER, BookCb(step=BookStep.PERSON, patient_id=cb.patient_id))],
    ])


def after_booking(appointment_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[
        [_b(texts.BTN_ICS, VisitCb(action=VisitAction.ICS, appointment_id=appointment_id))],
        [_b(texts.BTN_CANCEL_VISIT, VisitCb(action=VisitAction.ASK, appointment_id=appointment_id))],
    ])


def day_view(cells: list[ScheduleCell], timezone: str, cb: BookCb) -> InlineKeyboardMarkup:
    buttons = []
    for cell in cells:
        label = clock(cell.starts_at, timezone)
        if cell.own_appointment_id is not None:
            buttons.append(_b(f"🟥 {label}", VisitCb(action=VisitAction.ASK, appointment_id=cell.own_appointment_id,
                                                    back_doctor=cb.doctor_id, back_day=cb.day,
                                                    back_patient=cb.patient_id)))
        elif cell.free and cb.patient_id:
            buttons.append(_b(f"🟢 {label}", cb, step=BookStep.SLOT, slot_id=cell.slot_id))
        else:
            buttons.append(_b(f"⬜ {label}", cb, step=BookStep.DAY_VIEW))
    rows: Rows = [buttons[i:i + 4] for i in range(0, len(buttons), 4)]
    rows.append([_b(common.BTN_BACK, cb, step=BookStep.DAY)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def cancel_confirm(cb: VisitCb) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        _b(texts.BTN_CANCEL_OK, cb, action=VisitAction.CANCEL),
        _b(texts.BTN_CANCEL_KEEP, cb, action=VisitAction.KEEP),
    ]])


def after_cancel(cb: VisitCb) -> InlineKeyboardMarkup | None:
    """Back to the schedule view the cancel came from, if it came from one (R19)."""
    if not cb.back_doctor:
        return None
    return InlineKeyboardMarkup(inline_keyboard=[[_b(texts.BTN_BACK_TO_SCHEDULE, BookCb(
        step=BookStep.DAY_VIEW, patient_id=cb.back_patient, doctor_id=cb.back_doctor, day=cb.back_day))]])
