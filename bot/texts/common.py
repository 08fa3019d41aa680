"""Texts the whole bot shares. The portal's own words where it has them."""

from __future__ import annotations

import html
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

BTN_BOOK = "Запись к врачу"
BTN_CARDFILE = "Моя картотека"
BTN_HELP = "Помощь"
BTN_MODERATION = "Модерация"
BTN_RULES = "Правила системы"
BTN_BACK = "« Назад"
BTN_CANCEL = "Отмена"
BTN_MENU = "В начало"

MONTHS = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
          "октября", "ноября", "декабря")
WEEKDAYS = ("пн", "вт", "ср", "чт", "пт", "сб", "вс")
WEEKDAYS_FULL = ("понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье")

MENU = "Главное меню. Выберите действие кнопками внизу."
UNKNOWN_INPUT = "Я не понял сообщение. Пожалуйста, воспользуйтесь кнопками или командой /menu."
STALE_BUTTON = "Эта кнопка устарела. Откройте раздел заново."
TOO_MANY_REQUESTS = "Слишком много запросов. Подождите немного."
SOMETHING_WRONG = "Что-то пошло не так. Попробуйте ещё раз чуть позже."

HELP = (
    "<b>Что умеет бот портала медицинских услуг</b>\n\n"
    "• <b>Запись к врачу</b>: специальность → врач → дата и время → подтверждение.\n"
    "• <b>Встать в очередь</b>, если у врача нет свободного времени: когда время освободится, "
    "бот предложит его с кнопками «Подтвердить» / «Отказаться».\n"
    "• <b>Моя картотека</b>: люди, которых вы записываете (вы и члены семьи), их записи и очереди, "
    "«Отменить визит».\n\n"
    "Записываться, вставать в очередь и отменять записи можно только для людей, чьи данные "
    "подтверждены модератором.\n\n"
    "Команды: /menu — главное меню, /cardfile — картотека, /book — запись к врачу, "
    "/logout — выйти из учётной записи, /privacy — согласие на обработку данных и удаление учётной записи, "
    "/mydata — мои данные."
)


def esc(value: object) -> str:
    return html.escape(str(value), quote=False)


def day_month(value: date) -> str:
    return f"{value.day} {MONTHS[value.month - 1]}"


def long_date(value: date) -> str:
    return f"{WEEKDAYS_FULL[value.weekday()]}, {value.day} {MONTHS[value.month - 1]} {value.year}"


def local(at: datetime, timezone: str) -> datetime:
    return at.astimezone(ZoneInfo(timezone))


@lru_cache(maxsize=8192)
def clock(at: datetime, timezone: str) -> str:
    """«09:30» in the clinic's own time zone. Kept: a doctor's day shows the same times to every
    patient who opens it, up to 36 at a time."""
    moment = local(at, timezone)
    return f"{moment.hour:02d}:{moment.minute:02d}"


def when(at: datetime, timezone: str) -> str:
    """«вторник, 1 декабря 2026, 09:30» in the clinic's own time zone."""
    moment = local(at, timezone)
    return f"{long_date(moment.date())}, {moment:%H:%M}"


def deadline(at: datetime, timezone: str) -> str:
    """«18:00 29 ноября (вс)»: reads right after «до»."""
    moment = local(at, timezone)
    return f"{moment:%H:%M} {day_month(moment.date())} ({WEEKDAYS[moment.weekday()]})"


def birth(value: date) -> str:
    return f"{value:%d.%m.%Y}"


def your_telegram_id(telegram_id: int) -> str:
    return (f"Ваш Telegram ID: <code>{telegram_id}</code>.\n"
            "Администратор бота указывает его в настройках MODERATOR_IDS или OPERATOR_IDS, "
            "чтобы открыть вам модерацию или правила системы.")
