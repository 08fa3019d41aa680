"""Domain errors in the patient's words."""

from __future__ import annotations

from bot.texts.common import esc
from core import errors
from core.enums import ModerationStatus
from core.validation import format_snils

SEE_BELOW = "Подробности — в сообщении ниже."

INVALID = {
    ("email", "format"): "Это не похоже на адрес электронной почты. Пример: ivanova@mail.ru",
    ("full_name", "parts"): "Напишите фамилию, имя и отчество (если есть) через пробел, например: "
                            "Иванова Анна Петровна",
    ("full_name", "too_many_parts"): "Слишком много слов. Нужны фамилия, имя и отчество через пробел.",
    ("full_name", "letters"): "В ФИО допускаются только русские буквы, дефис и пробел.",
    ("full_name", "too_long"): "Слишком длинное ФИО.",
    ("full_name", "empty"): "Напишите фамилию, имя и отчество.",
    ("birth_date", "format"): "Дата рождения — в виде ДД.ММ.ГГГГ, например 05.03.1984.",
    ("birth_date", "future"): "Дата рождения не может быть в будущем.",
    ("birth_date", "too_old"): "Проверьте год рождения.",
    ("sex", "format"): "Выберите пол кнопкой.",
    ("oms_policy", "format"): "Номер полиса ОМС — 16 цифр (единый номер полиса), например 7712 3456 7890 1234.",
    ("snils", "format"): "СНИЛС — 11 цифр, например 112-233-445 95.",
    ("snils", "checksum"): "В номере СНИЛС ошибка: не сходится контрольное число. Проверьте цифры.",
    ("phone", "required"): "Телефон главного пользователя обязателен: по нему звонит регистратура.",
    ("phone", "format"): "Телефон — 10 цифр после +7 или 8, например +7 912 345-67-89.",
    ("cancel_cutoff", "format"): "Время — в виде ЧЧ:ММ, например 18:00.",
    ("offer_minutes", "format"): "Нужно целое число минут, например 120.",
    ("offer_minutes", "range"): "От 5 до 1440 минут.",
    ("reason", "empty"): "Напишите причину отклонения.",
    ("reason", "too_long"): "Причина слишком длинная: не больше 500 знаков.",
}

NOT_CONFIRMED = {
    ModerationStatus.PENDING: "Данные этого человека на проверке у модератора. Пока проверка не завершена, "
                              "запись к врачу, очередь и отмена записей недоступны.",
    ModerationStatus.REJECTED: "Модератор не подтвердил данные этого человека. Исправьте их в «Моей картотеке» "
                               "и отправьте на проверку снова.",
}


def error_text(exc: errors.DomainError) -> str:
    match exc:
        case errors.InvalidInput(field=field, reason=reason):
            return INVALID.get((field, reason), "Проверьте введённые данные.")
        case errors.ConsentRequired():
            return "Сначала нужно согласие на обработку персональных данных: нажмите /start."
        case errors.NotLoggedIn():
            return "Услуги записи доступны только авторизованным пользователям. Войдите: /start."
        case errors.NotAllowed():
            return "Это действие вам недоступно."
        case errors.NotFound():
            return "Не нашёл такой записи. Возможно, она уже удалена: откройте раздел заново."
        case errors.CodeExpired():
            return "Код больше не действует. Запросите новый код."
        case errors.CodeWrong(attempts_left=left):
            return f"Код неверный. Осталось попыток: {left}."
        case errors.TooManyAttempts():
            return "Слишком много неверных попыток. Запросите новый код."
        case errors.ResendTooSoon(seconds=seconds):
            return f"Новый код можно запросить через {seconds} с."
        case errors.LoginStateInvalid():
            return "Ссылка для входа уже использована или устарела. Нажмите «Войти через Госуслуги» ещё раз."
        case errors.EsiaUnavailable():
            return "Госуслуги сейчас не отвечают. Попробуйте войти позже или войдите по электронной почте."
        case errors.PersonNotConfirmed(status=status, reason=reason):
            text = NOT_CONFIRMED.get(status, NOT_CONFIRMED[ModerationStatus.PENDING])
            return text + (f"\nПричина: {esc(reason)}" if reason else "")
        case errors.AlreadyDecided(status=status):
            word = "подтверждены" if status == ModerationStatus.CONFIRMED else "отклонены"
            return f"Другой модератор уже рассмотрел эти данные: {word}."
        case errors.HasFutureAppointments():
            return "У этого человека есть предстоящие записи к врачу. Сначала отмените их."
        case errors.OwnerCannotBeRemoved():
            return "Главного пользователя учётной записи удалить из картотеки нельзя."
        case errors.SlotTaken():
            return "Это время уже занято. Выберите другое."
        case errors.SlotInPast():
            return "Это время уже прошло. Выберите другое."
        case errors.BeyondHorizon():
            return "На это время запись ещё не открыта."
        case errors.OnePerDoctor():
            return "К одному врачу можно иметь только одну предстоящую запись. Сначала отмените прежнюю."
        case errors.CutoffPassed(phone=phone):
            call = f" По вопросам записи звоните в регистратуру: {esc(phone)}." if phone else ""
            return ("Отменить запись уже нельзя: отмена возможна до установленного времени дня, "
                    "предшествующего посещению. Регистратура уже сформировала списки пациентов на "
                    "следующий день." + call)
        case errors.AlreadyCancelled():
            return "Эта запись уже отменена."
        case errors.WaitlistClosed():
            return "Медицинская организация этого врача не ведёт очередь."
        case errors.AlreadyQueued():
            return "Этот человек уже стоит в такой очереди."
        case errors.FreeTimeExists():
            return "У врача появилось свободное время: запишитесь на него."
        case errors.EmailUndeliverable():
            return "Не удалось отправить письмо с кодом. Проверьте адрес или попробуйте позже."
        case errors.StaleButton():
            return "Эта кнопка устарела. Откройте раздел заново."
        case errors.OfferGone():
            return "Это предложение уже не действует."
    return "Действие не выполнено."


def snils_text(value: str | None) -> str:
    return format_snils(value) if value else "не указан"
