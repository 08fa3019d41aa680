from __future__ import annotations

from collections.abc import Sequence

from bot.texts.common import esc
from core.ports import EsiaField

GREETING = (
    "Здравствуйте! Это бот Регионального портала медицинских услуг.\n"
    "Здесь можно записаться к врачу себе и близким, встать в очередь, если свободного времени нет, "
    "и отменить запись."
)
CONSENT_ASK = (
    "Чтобы записывать вас к врачу, боту нужно обрабатывать ваши персональные данные: ФИО, дату "
    "рождения, номер полиса ОМС, СНИЛС, телефон и адрес электронной почты (Федеральный закон "
    "№ 152-ФЗ «О персональных данных»).\n\n"
    "Текст согласия — ниже. Пока вы не дадите согласие, бот ничего о вас не сохраняет."
)
BTN_AGREE = "Даю согласие"
BTN_DISAGREE = "Не согласен"
CONSENT_DECLINED = (
    "Без согласия на обработку персональных данных записать к врачу нельзя. Вы можете вернуться в "
    "любой момент: /start."
)
BTN_WITHDRAW = "Отозвать согласие"

LOGIN_ASK = (
    "Услуга «Запись на прием к врачу» доступна только авторизованным пользователям. "
    "Как вы хотите войти?"
)
BTN_EMAIL = "Войти по электронной почте"
BTN_ESIA = "Войти через Госуслуги (ЕСИА)"
BTN_OPEN_ESIA = "Открыть Госуслуги"
ESIA_LINK = (
    "Нажмите «Открыть Госуслуги», войдите там и разрешите доступ. Ссылка одноразовая и действует "
    "15 минут. После входа вернитесь в этот чат."
)
ESIA_DONE = "Вы вошли через Госуслуги (ЕСИА). Данные главного пользователя подтверждены Госуслугами."
ESIA_FIELDS = {
    EsiaField.FULL_NAME: "ФИО", EsiaField.BIRTH_DATE: "дата рождения", EsiaField.SEX: "пол",
    EsiaField.SNILS: "СНИЛС", EsiaField.OMS_POLICY: "полис ОМС",
}
ESIA_PAGE_OK = "Вход выполнен. Вернитесь в Telegram — бот уже написал вам."
ESIA_PAGE_FAIL = "Войти не удалось. Вернитесь в Telegram и попробуйте ещё раз."
EMAIL_ASK = "Напишите адрес электронной почты. Мы отправим на него одноразовый код."
BTN_RESEND = "Отправить код ещё раз"
BTN_OTHER_EMAIL = "Другой адрес"
LOGGED_OUT = "Вы вышли из учётной записи. Чтобы войти снова, нажмите /start."
NOT_LOGGED_IN = "Вы не вошли в учётную запись. Нажмите /start."
OWNER_DATA_ASK = (
    "Вы вошли. Теперь заполните данные главного пользователя учётной записи: их проверит модератор, "
    "после этого можно будет записываться к врачу."
)
WELCOME_BACK = "Вы вошли в учётную запись."


def esia_done(from_esia: Sequence[EsiaField]) -> str:
    """After an ESIA log-in; the first one also says which of the owner's fields ESIA filled."""
    if not from_esia:
        return ESIA_DONE
    text = ESIA_DONE + "\nИз Госуслуг: " + ", ".join(ESIA_FIELDS[f] for f in ESIA_FIELDS if f in from_esia) + "."
    missing = [ESIA_FIELDS[f] for f in ESIA_FIELDS if f not in from_esia]
    if missing:
        text += "\nГосуслуги не передали: " + ", ".join(missing) + "."
    return text


def code_sent(masked_email: str, ttl_minutes: int) -> str:
    return (f"Код отправлен на {esc(masked_email)}. Напишите его сюда одним сообщением. "
            f"Код действует {ttl_minutes} мин.")


def mask_email(email: str) -> str:
    name, _, domain = email.partition("@")
    shown = name[:2] if len(name) > 2 else name[:1]
    return f"{shown}***@{domain}"
