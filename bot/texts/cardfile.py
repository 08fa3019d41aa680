from __future__ import annotations

from bot.texts.booking import SOURCE_WORD
from bot.texts.common import birth, esc, when
from bot.texts.errors import snils_text
from bot.texts.person import SEX_WORD, STATUS_WORD
from bot.texts.waitlist import queue_line
from core.booking import AppointmentView
from core.enums import AppointmentSource
from core.visits import PersonVisits
from storage.models import Patient

TITLE = "<b>Моя картотека</b>"
EMPTY = "В картотеке пока никого нет."
BTN_ADD = "Добавить человека"
BTN_FIX = "Исправить и отправить снова"
BTN_REMOVE = "Удалить из картотеки"
BTN_REMOVE_OK = "Да, удалить"
BTN_BOOK = "Записать к врачу"
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


def _visit_line(view: AppointmentView) -> str:
    source = "" if view.source == AppointmentSource.PORTAL else f" [{SOURCE_WORD[view.source]}]"
    return (f"• {when(view.starts_at, view.doctor.org.timezone)} — {esc(view.doctor.specialty.name)}, "
            f"{esc(view.doctor.name)}, {esc(view.doctor.org.name)}{source}")


def person_with_visits(card: PersonVisits) -> str:
    parts = [person_card(card.patient)]
    if card.future:
        parts.append("<b>Предстоящие визиты</b>\n" + "\n".join(_visit_line(v) for v in card.future))
    else:
        parts.append("Предстоящих визитов нет.")
    if card.queue:
        parts.append("<b>Очереди</b>\n" + "\n".join(queue_line(q) for q in card.queue))
    if card.past:
        parts.append("<b>Прошедшие визиты</b>\n" + "\n".join(_visit_line(v) for v in card.past[:10]))
    return "\n\n".join(parts)
