from __future__ import annotations

from datetime import date
from typing import Any

from bot.texts.common import birth, esc
from bot.texts.errors import snils_text
from bot.texts.person import SEX_WORD
from core.enums import Sex
from storage.models import Patient

BTN_CONFIRM = "Подтвердить"
BTN_REJECT = "Отклонить"
NOTHING_PENDING = "Заявок на проверку нет."
PENDING_TITLE = "<b>Ждут проверки</b> (сначала самые давние):"
REASON_ASK = "Напишите причину отклонения одним сообщением — её увидит пациент:"
CONFIRMED_MARK = "\n\n✅ Подтверждено вами."
REJECTED_MARK = "\n\n❌ Отклонено вами. Причина: {reason}"


def submission(data: dict[str, Any]) -> str:
    name = " ".join(p for p in (data["last_name"], data["first_name"], data.get("middle_name")) if p)
    head = "Повторная проверка данных" if data.get("resubmitted") else "Новые данные на проверку"
    who = "главный пользователь учётной записи" if data.get("is_owner") else "член семьи"
    return (
        f"<b>{head}</b> ({who})\n\n"
        f"ФИО: {esc(name)}\n"
        f"Дата рождения: {birth(date.fromisoformat(data['birth_date']))}\n"
        f"Пол: {SEX_WORD[Sex(data['sex'])]}\n"
        f"Полис ОМС: {esc(data.get('oms_policy') or 'не указан')}\n"
        f"СНИЛС: {snils_text(data.get('snils'))}\n"
        f"Телефон: {esc(data.get('phone') or 'не указан')}"
    )


def from_patient(patient: Patient) -> dict[str, Any]:
    return {
        "last_name": patient.last_name, "first_name": patient.first_name, "middle_name": patient.middle_name,
        "birth_date": patient.birth_date.isoformat(), "sex": patient.sex.value, "oms_policy": patient.oms_policy,
        "snils": patient.snils, "phone": patient.phone, "is_owner": patient.is_owner, "resubmitted": False,
    }


def result(data: dict[str, Any]) -> str:
    name = esc(f"{data['last_name']} {data['first_name']}")
    if data["confirmed"]:
        return (f"✅ Модератор подтвердил данные: {name}. Теперь можно записываться к врачу "
                "и вставать в очередь.")
    return (f"❌ Модератор отклонил данные: {name}.\nПричина: {esc(data['reason'])}\n\n"
            "Исправьте данные в «Моей картотеке» и отправьте их на проверку снова.")


def handled(data: dict[str, Any]) -> str:
    word = "подтверждены" if data["confirmed"] else "отклонены"
    return (f"Данные {esc(data['last_name'])} {esc(data['first_name'])} уже рассмотрены другим модератором: "
            f"{word}. Ничего делать не нужно.")
