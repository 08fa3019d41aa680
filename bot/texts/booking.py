from __future__ import annotations

from datetime import date, datetime

from bot.texts.common import day_month, esc, local, long_date, when
from bot.texts.common import deadline as until
from core.booking import AppointmentView
from core.catalog import DoctorInfo, SpecialtyInfo
from core.enums import AppointmentSource

WHO = "<b>Запись к врачу</b>\nКого записать? Выберите человека из картотеки:"
SPECIALTY = "<b>Запись к врачу</b>{who}\nВыберите специальность врача:"
NO_SPECIALTIES = "Сейчас нет врачей, к которым можно записаться."
BTN_SCHEDULE = "Расписание дня (мои записи — 🟥)"
BTN_CONFIRM = "Подтвердить"
BTN_START_OVER = "Начать заново"
BTN_ICS = "Добавить в календарь (.ics)"
BTN_MORE = "Ещё »"
BTN_LESS = "« Назад"
BTN_CANCEL_VISIT = "Отменить визит"
BTN_QUEUE = "Встать в очередь"
BTN_BACK_TO_SCHEDULE = "« К расписанию"
BTN_CANCEL_OK = "Ок"
BTN_CANCEL_KEEP = "Не отменять"
CANCELLED = "Запись отменена."
BOOKED = "Вы записаны."  # the press's answer; the screen gives the details
NO_PEOPLE = "В картотеке нет людей для записи. Сначала заполните данные: «Моя картотека»."

SOURCE_WORD = {
    AppointmentSource.PORTAL: "Региональный портал",
    AppointmentSource.EQUEUE: "Электронная очередь",
    AppointmentSource.DOCTOR: "врач медицинской организации",
    AppointmentSource.REGISTRY: "регистратура",
    AppointmentSource.INFOMAT: "Инфомат",
}


def who(patient_name: str | None) -> str:
    return f"\nПациент: {esc(patient_name)}" if patient_name else ""


def doctors(specialty: SpecialtyInfo) -> str:
    return f"<b>{esc(specialty.name)}</b>\nВыберите врача (ближайшее свободное время в скобках):"


def doctor_button(name: str, org_short: str, next_free: datetime | None, timezone: str) -> str:
    nearest = f"{day_month(local(next_free, timezone).date())}" if next_free else "нет времени"
    return f"{name} · {org_short} ({nearest})"


def doctor_head(doctor: DoctorInfo) -> str:
    cabinet = f", каб. {esc(doctor.cabinet)}" if doctor.cabinet else ""
    return (f"<b>{esc(doctor.name)}</b> — {esc(doctor.specialty.name.lower())}\n"
            f"{esc(doctor.org.name)}\n{esc(doctor.org.address or '')}{cabinet}")


def dates(doctor: DoctorInfo) -> str:
    return doctor_head(doctor) + "\n\nВыберите дату:"


def no_free_time(doctor: DoctorInfo, horizon_days: int) -> str:
    return doctor_head(doctor) + f"\n\nВ расписании врача нет свободного времени на ближайшие {horizon_days} дн."


def times(doctor: DoctorInfo, day: date) -> str:
    return doctor_head(doctor) + f"\n\n{long_date(day).capitalize()}. Выберите время:"


def day_gone(doctor: DoctorInfo, day: date) -> str:
    return doctor_head(doctor) + f"\n\nНа {day_month(day)} свободного времени больше нет. Выберите другую дату."


def summary(doctor: DoctorInfo, starts_at: datetime, patient_name: str) -> str:
    return (
        "<b>Проверьте запись</b>\n\n"
        f"Пациент: {esc(patient_name)}\n"
        f"Врач: {esc(doctor.name)} ({esc(doctor.specialty.name.lower())})\n"
        f"{esc(doctor.org.name)}, {esc(doctor.org.address or '')}\n"
        f"Дата и время: <b>{when(starts_at, doctor.org.timezone)}</b>"
    )


def appointment_details(view: AppointmentView) -> str:
    doctor = view.doctor
    cabinet = f"\nКабинет: {esc(doctor.cabinet)}" if doctor.cabinet else ""
    patient = f"Пациент: {esc(view.patient_name)}\n" if view.patient_name else ""
    return (
        f"{patient}Врач: {esc(doctor.name)} ({esc(doctor.specialty.name.lower())})\n"
        f"{esc(doctor.org.name)}\nАдрес: {esc(doctor.org.address or 'не указан')}{cabinet}\n"
        f"Дата и время: <b>{when(view.starts_at, doctor.org.timezone)}</b> (местное время)"
    )


def booked(view: AppointmentView) -> str:
    deadline = ""
    if view.cancel_deadline is not None:
        deadline = f"\n\nОтменить запись можно до {until(view.cancel_deadline, view.doctor.org.timezone)}."
    return "✅ <b>Вы записаны к врачу</b>\n\n" + appointment_details(view) + deadline


def cancel_ask(view: AppointmentView) -> str:
    return "Отменить запись?\n\n" + appointment_details(view)


def cancelled(view: AppointmentView) -> str:
    return "Запись отменена.\n\n" + appointment_details(view)


def day_view(doctor: DoctorInfo, day: date) -> str:
    return (doctor_head(doctor) + f"\n\nРасписание на {long_date(day)}.\n"
            "🟢 — свободно, ⬜ — занято, 🟥 — ваша запись (нажмите, чтобы отменить).")
