"""«Мои данные», deleting the account and withdrawing consent (152-FZ), in the patient's words."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.texts.common import birth, esc, when
from core.account_data import AccountData, PersonRecord, QueueRecord, VisitRecord
from core.enums import AppointmentStatus, AuthMethod, ModerationStatus, Sex
from core.privacy import UpcomingVisit

BTN_MY_DATA = "Мои данные"
BTN_DELETE = "Удалить учётную запись"
BTN_DELETE_AND_CANCEL = "Удалить и отменить визиты"
BTN_KEEP = "Не удалять"
DATA_FILE = "moi-dannye.json"

SCREEN = (
    "<b>Ваши персональные данные</b>\n\n"
    "• <b>Мои данные</b> (/mydata) — всё, что бот хранит о вашей учётной записи: сообщением и файлом.\n"
    "• <b>Удалить учётную запись</b> — удаляет картотеку, очереди и учётную запись; предстоящие визиты "
    "отменяются (бот спросит). В прошедших визитах остаются только время и врач, без данных о человеке.\n"
    "• <b>Отозвать согласие</b> — бот забывает этот Telegram-аккаунт: связь с учётной записью, "
    "коды входа и неотправленные сообщения. Учётная запись, картотека, записи и очереди сохраняются, "
    "пока вы их не удалите: предложения из очереди не приходят, пока вы снова не войдёте. "
    "Чтобы удалить всё, сначала удалите учётную запись."
)
CONSENT_WITHDRAWN = (
    "Согласие отозвано, вы вышли из учётной записи. Бот удалил сведения об этом Telegram-аккаунте; "
    "учётная запись и картотека сохранены. Вернуться: /start."
)
ASK_DELETE = (
    "Удалить учётную запись? Будут удалены картотека (все люди и их данные), очереди и учётная запись. "
    "Отменить удаление нельзя. Чтобы снова пользоваться ботом, нужно будет дать согласие и войти заново."
)
DELETE_KEPT = "Учётная запись не удалена."
START_AGAIN = "Чтобы снова пользоваться ботом, нажмите /start."
SENT_FILE = "Все данные — в файле выше (JSON)."


def account_deleted(cancelled: int) -> str:
    visits = f" Отменено визитов: {cancelled}; освободившееся время передано очереди." if cancelled else ""
    return "Учётная запись удалена вместе с картотекой и очередями." + visits


def _visit_line(v: UpcomingVisit) -> str:
    who = f"{esc(v.patient_name)}: " if v.patient_name else ""
    return f"• {who}{when(v.starts_at, v.timezone)}, {esc(v.doctor)} ({esc(v.organization)})"


def has_upcoming(visits: Sequence[UpcomingVisit]) -> str:
    return ("У вас есть предстоящие визиты:\n" + "\n".join(_visit_line(v) for v in visits) +
            "\n\nУдалить учётную запись и отменить их? Освободившееся время получат пациенты из очереди.")


def past_cutoff(visits: Sequence[UpcomingVisit]) -> str:
    phones = sorted({v.phone for v in visits if v.phone})
    call = f" по телефону {', '.join(esc(p) for p in phones)}" if phones else ""
    return ("Удалить учётную запись пока нельзя: эти визиты уже нельзя отменить в боте — регистратура "
            "подготовила списки на следующий день:\n" + "\n".join(_visit_line(v) for v in visits) +
            f"\n\nОтмените их, позвонив в регистратуру{call}, или удалите учётную запись после визита.")


METHODS = {AuthMethod.EMAIL: "электронная почта", AuthMethod.ESIA: "Госуслуги (ЕСИА)"}
STATUSES = {ModerationStatus.PENDING: "на проверке", ModerationStatus.CONFIRMED: "подтверждены",
            ModerationStatus.REJECTED: "отклонены"}
SEXES = {Sex.MALE: "мужской", Sex.FEMALE: "женский"}


def _at(value: datetime | None) -> str:
    return "—" if value is None else when(value, "Europe/Moscow") + " (МСК)"


def _person(p: PersonRecord) -> str:
    lines = [f"<b>{esc(p.full_name)}</b>" + (" — главный пользователь" if p.is_owner else ""),
             f"Дата рождения: {birth(p.birth_date)}; пол: {SEXES[p.sex]}",
             f"Полис ОМС: {esc(p.oms_policy or '—')}; СНИЛС: {esc(p.snils or '—')}; телефон: {esc(p.phone or '—')}",
             f"Данные {STATUSES[p.status]}" + (f": {esc(p.rejection_reason)}" if p.rejection_reason else "")]
    if p.removed_at is not None:
        lines.append(f"Удалён из картотеки: {_at(p.removed_at)}")
    return "\n".join(lines)


def _visit(v: VisitRecord, data: AccountData) -> str:
    person = data.person(v.patient_id)
    state = "отменён" if v.status == AppointmentStatus.CANCELLED else "активен"
    who = f"{esc(person.full_name)}, " if person else ""
    place = f"{esc(v.doctor)}, {esc(v.specialty)}, {esc(v.organization)}"
    return f"• {who}{when(v.starts_at, v.timezone)}, {place} — {state}"


def _queue(q: QueueRecord, data: AccountData) -> str:
    person = data.person(q.patient_id)
    doctor = esc(q.doctor) if q.doctor else "любой врач"
    return (f"• {esc(person.full_name) if person else '—'}: {esc(q.specialty)}, {doctor}, {esc(q.organization)}; "
            f"в очереди с {_at(q.queued_at)}; предложений: {len(q.offers)} (использовано {q.offers_used})")


def my_data(data: AccountData) -> list[str]:
    """The whole record as messages, each within Telegram's 4096 characters."""
    login = METHODS[data.auth_method] + (f": {esc(data.email)}" if data.email else "")
    blocks = [
        "<b>Мои данные</b>\n"
        f"Учётная запись № {data.account_id}, вход: {login}\n"
        f"Согласие: версия {esc(data.consent_version or '—')}, {_at(data.consent_at)}\n"
        f"Создана: {_at(data.created_at)}; последний вход: {_at(data.last_login_at)}",
        "<b>Картотека</b>\n\n" + ("\n\n".join(_person(p) for p in data.people) or "пусто"),
        "<b>Визиты</b>\n" + ("\n".join(_visit(v, data) for v in data.visits) or "нет"),
        "<b>Очереди</b>\n" + ("\n".join(_queue(q, data) for q in data.queue) or "нет"),
        "<b>Telegram</b>\n" + ("\n".join(f"• ID {c.telegram_id}, согласие {esc(c.consent_version or '—')}"
                                         for c in data.chats) or "нет"),
    ]
    return _pack(blocks)


def _pack(blocks: Sequence[str], limit: int = 4000) -> list[str]:
    messages: list[str] = []
    for block in blocks:
        for line in _split(block, limit):
            if messages and len(messages[-1]) + 2 + len(line) <= limit:
                messages[-1] += "\n\n" + line
            else:
                messages.append(line)
    return messages


def _split(block: str, limit: int) -> list[str]:
    """A block too long for one message, cut at line ends (a line is far shorter than the limit)."""
    parts: list[str] = []
    for line in block.split("\n"):
        if parts and len(parts[-1]) + 1 + len(line) <= limit:
            parts[-1] += "\n" + line
        else:
            parts.append(line)
    return parts
