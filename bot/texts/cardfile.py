from __future__ import annotations

from bot.texts.common import birth, esc
from bot.texts.errors import snils_text
from bot.texts.person import SEX_WORD, STATUS_WORD
from storage.models import Patient

TITLE = "<b>Моя картотека</b>"
EMPTY = "В картотеке пока никого нет."
BTN_ADD = "Добавить человека"
BTN_FIX = "Исправить и отправить снова"
BTN_REMOVE = "Удалить из картотеки"
BTN_REMOVE_OK = "Да, удалить"
REMOVE_ASK = "Удалить этого человека из картотеки? Его прошлые визиты останутся в истории учётной записи."
REMOVED = "Человек удалён из картотеки."
OWNER_FIRST = "Сначала заполните данные главного пользователя учётной записи."


def person_line(patient: Patient) -> str:
    role = " (главный пользователь)" if patient.is_owner else ""
    return f"• <b>{esc(patient.full_name)}</b>{role} — {STATUS_WORD[patient.status]}"


def overview(people: list[Patient]) -> str:
    if not people:
        return f"{TITLE}\n\n{EMPTY}"
    return TITLE + "\n\n" + "\n".join(person_line(p) for p in people) + "\n\nВыберите человека:"


def person_card(patient: Patient) -> str:
    lines = [
        f"<b>{esc(patient.full_name)}</b>" + (" — главный пользователь" if patient.is_owner else ""),
        f"Дата рождения: {birth(patient.birth_date)}, пол: {SEX_WORD[patient.sex]}",
        f"Полис ОМС: {esc(patient.oms_policy or 'не указан')}",
        f"СНИЛС: {snils_text(patient.snils)}",
        f"Статус: {STATUS_WORD[patient.status]}",
    ]
    if patient.rejection_reason:
        lines.append(f"Причина отклонения: {esc(patient.rejection_reason)}")
    return "\n".join(lines)
