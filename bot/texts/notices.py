"""Messages the bot sends on its own: reminders and changes made by the clinic."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.texts.common import esc, when
from core.catalog import DoctorInfo


def reminder(doctor: DoctorInfo, starts_at: datetime) -> str:
    cabinet = f", кабинет {esc(doctor.cabinet)}" if doctor.cabinet else ""
    return (
        "⏰ <b>Напоминание о приёме</b>\n\n"
        f"{when(starts_at, doctor.org.timezone)} — {esc(doctor.specialty.name.lower())}, {esc(doctor.name)}\n"
        f"{esc(doctor.org.name)}, {esc(doctor.org.address or '')}{cabinet}\n\n"
        "Возьмите с собой паспорт и полис ОМС. Если прийти не получится, отмените запись, чтобы время "
        "досталось другому пациенту."
    )


def withdrawn(payload: dict[str, Any]) -> str:
    starts = datetime.fromisoformat(str(payload["starts_at"]))
    return (
        "❗️ <b>Запись отменена медицинской организацией</b>\n\n"
        f"{esc(payload.get('organization', ''))} убрала из расписания время "
        f"{when(starts, str(payload['timezone']))} у врача {esc(payload.get('doctor', ''))}. "
        "Приносим извинения. Выберите другое время: «Запись к врачу»."
    )
