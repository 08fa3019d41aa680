from __future__ import annotations

from datetime import datetime

from bot.texts.common import esc, local, when
from core.catalog import DoctorInfo
from core.visits import QueueView

CHOOSE_TYPE = "Выберите тип записи в очередь:"
BTN_THIS_DOCTOR = "К этому врачу"
BTN_ANY_DOCTOR = "К любому врачу этой специальности"
BTN_CONFIRM = "Подтвердить"
BTN_DECLINE = "Отказаться"
BTN_DECLINE_OK = "Да, отказаться"
BTN_DECLINE_KEEP = "Нет, вернуться"
BTN_LEAVE = "Отменить визит (выйти из очереди)"
BTN_LEAVE_OK = "Да, выйти из очереди"
LEFT = "Вы вышли из очереди."
KEPT = "Предложение остаётся в силе. Подтвердите время или откажитесь:"
DECLINE_ASK = ("Отказаться от предложенного времени? Вы вернётесь в очередь на своё место, "
               "а время предложат следующему пациенту.")
LEAVE_ASK = "Выйти из очереди? Место в очереди не сохранится."


def target(doctor: DoctorInfo, any_doctor: bool) -> str:
    if any_doctor:
        return f"к любому врачу специальности «{esc(doctor.specialty.name)}», {esc(doctor.org.name)}"
    return f"к врачу {esc(doctor.name)} ({esc(doctor.specialty.name.lower())}), {esc(doctor.org.name)}"


def summary(doctor: DoctorInfo, any_doctor: bool, patient_name: str) -> str:
    return (
        "<b>Встать в очередь</b>\n\n"
        f"Пациент: {esc(patient_name)}\n"
        f"Очередь: {target(doctor, any_doctor)}\n\n"
        "Когда появится свободное время, бот пришлёт его с кнопками «Подтвердить» и «Отказаться». "
        "Время будет закреплено за вами, пока вы не ответите. Предложений будет не больше трёх, одно за другим."
    )


def joined(position: int) -> str:
    return f"✅ Вы включены в очередь. {place(position)}"


def place(position: int | None) -> str:
    """The place kept in the queue (R12); nothing for a message written before places were told."""
    return f"Ваше место в очереди: {position}." if position is not None else ""


def offer(patient_name: str | None, doctor: DoctorInfo, starts_at: datetime, expires_at: datetime,
          attempt: int, maximum: int) -> str:
    who = f"Пациент: {esc(patient_name)}\n" if patient_name else ""
    held_until = local(expires_at, doctor.org.timezone)
    return (
        "🔔 <b>Предлагаем время для записи на приём</b>\n\n"
        f"{who}Врач: {esc(doctor.name)} ({esc(doctor.specialty.name.lower())})\n"
        f"{esc(doctor.org.name)}, {esc(doctor.org.address or '')}\n"
        f"Дата и время: <b>{when(starts_at, doctor.org.timezone)}</b>\n\n"
        f"Время закреплено за вами до {held_until:%d.%m %H:%M} (местное время). "
        f"Предложение {attempt} из {maximum}."
    )


def declined(offers_left: int, position: int | None) -> str:
    return (f"Вы отказались от предложенного времени и возвращены в очередь. "
            f"Осталось предложений: {offers_left}. {place(position)}").rstrip()


def exhausted(reason: str) -> str:
    why = "время на ответ истекло" if reason == "expired" else "вы отказались от предложенного времени"
    return (f"Вы исключены из очереди: {why}, а все три попытки уже использованы. "
            "Чтобы встать в очередь снова, выберите врача в «Запись к врачу» и нажмите «Встать в очередь».")


def lapsed(offers_left: int, position: int | None) -> str:
    return ("Время на ответ истекло, предложенное время передано следующему пациенту. Вы остаётесь в очереди. "
            f"Осталось предложений: {offers_left}. {place(position)}").rstrip()


def queue_line(item: QueueView) -> str:
    if item.doctor is not None:
        head = f"к врачу {esc(item.doctor.name)} ({esc(item.specialty.name.lower())})"
    else:
        head = f"к любому врачу: {esc(item.specialty.name.lower())}"
    line = f"• В очереди {head}, {esc(item.org.name)} — место в очереди: {item.position}"
    if item.offer is not None:
        o = item.offer
        line += (f"\n  🔔 Предложено время: <b>{when(o.starts_at, o.doctor.org.timezone)}</b>, {esc(o.doctor.name)}. "
                 f"Ответьте до {local(o.expires_at, o.doctor.org.timezone):%d.%m %H:%M}.")
    return line
