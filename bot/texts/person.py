from __future__ import annotations

from datetime import date

from bot.texts.common import birth, esc
from bot.texts.errors import snils_text
from core.enums import ModerationStatus, Sex

ASK_FULL_NAME = "Фамилия, имя и отчество (если есть) — через пробел, как в полисе ОМС:"
ASK_BIRTH_DATE = "Дата рождения (ДД.ММ.ГГГГ):"
ASK_SEX = "Пол:"
ASK_OMS = "Номер полиса ОМС (16 цифр):"
ASK_SNILS = "СНИЛС (11 цифр). Если СНИЛС нет под рукой — нажмите «Пропустить»."
ASK_PHONE = "Контактный телефон:"
ASK_PHONE_OPTIONAL = "Контактный телефон. Можно пропустить."
BTN_MALE = "Мужской"
BTN_FEMALE = "Женский"
BTN_SKIP = "Пропустить"
BTN_SUBMIT = "Отправить на проверку"
BTN_RESTART = "Заполнить заново"
BUTTON_EXPECTED = "Выберите вариант кнопкой под сообщением."
FORM_CANCELLED = "Заполнение отменено, ничего не сохранено."
SUBMITTED = ("Данные отправлены на проверку модератору. Пока данные на проверке, запись к врачу для этого "
             "человека недоступна. Мы сообщим, когда проверка закончится.")
ADD_PERSON_INTRO = "Добавим человека в картотеку. Его данные тоже проверит модератор."
FIX_INTRO = "Исправьте данные и отправьте их на проверку снова."

SEX_WORD = {Sex.MALE: "мужской", Sex.FEMALE: "женский"}
STATUS_WORD = {
    ModerationStatus.PENDING: "⏳ на проверке у модератора",
    ModerationStatus.CONFIRMED: "✅ данные подтверждены",
    ModerationStatus.REJECTED: "❌ данные отклонены модератором",
}


def review(last: str, first: str, middle: str | None, born: date, sex: Sex, oms: str,
           snils: str | None, phone: str | None) -> str:
    name = " ".join(p for p in (last, first, middle) if p)
    return (
        "Проверьте данные:\n\n"
        f"ФИО: <b>{esc(name)}</b>\n"
        f"Дата рождения: {birth(born)}\n"
        f"Пол: {SEX_WORD[sex]}\n"
        f"Полис ОМС: {esc(oms)}\n"
        f"СНИЛС: {snils_text(snils)}\n"
        f"Телефон: {esc(phone) if phone else 'не указан'}"
    )
