"""The floor of the rush (``bench.rush``): bare aiogram and no database, polling the same fake Bot API.

It makes the Bot API calls the booking conversation makes per update — a sendMessage for
«Запись к врачу», answerCallbackQuery and editMessageText for each button after it — with screens
and keyboards of the bot's sizes, so that what the bot adds on top is its own work.
``python -m bench.bare_bot`` reads BOT_TOKEN, TELEGRAM_API_BASE and CONCURRENT_UPDATES.
"""

from __future__ import annotations

import asyncio
import os

from aiogram import Bot, Dispatcher, F
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

DOCTOR = ("<b>Иванова Мария Петровна</b> — терапевт\nГБУЗ «Городская поликлиника № 1»\n"
          "г. Энск, ул. Ленина, д. 10, каб. 101")
VISIT = ("Пациент: Иванова Анна\nВрач: Иванова Мария Петровна (терапевт)\nГБУЗ «Городская поликлиника № 1»\n"
         "Адрес: г. Энск, ул. Ленина, д. 10\nКабинет: 101\nДата и время: <b>пн 7 декабря, 09:30</b> (местное время)")
# Each screen as the bot draws it: its text, its buttons' labels, and how many buttons go in a row.
SCREENS: tuple[tuple[str, list[str], int], ...] = (
    ("<b>Запись к врачу</b>\nВыберите специальность врача:",
     ["Терапевт", "Педиатр", "Хирург", "Офтальмолог", "Невролог", "Оториноларинголог"], 1),
    ("<b>Терапевт</b>\nВыберите врача (ближайшее свободное время в скобках):",
     ["Иванова Мария Петровна · Городская поликлиника № 1 (7 декабря)",
      "Смирнов Алексей Игоревич · Городская поликлиника № 1 (7 декабря)",
      "Новиков Павел Юрьевич · Центральная районная больница (8 декабря)", "« Назад"], 1),
    (DOCTOR + "\n\nВыберите дату:",
     [f"{day} {n} декабря" for day, n in zip(("пн", "вт", "ср", "чт", "пт") * 2, range(7, 15), strict=False)]
     + ["« Назад"], 2),
    (DOCTOR + "\n\nПонедельник, 7 декабря 2026. Выберите время:",
     [f"{9 + i // 2:02d}:{30 * (i % 2):02d}" for i in range(8)] + ["Расписание на день", "« Назад"], 4),
    ("<b>Проверьте запись</b>\n\n" + VISIT, ["Подтвердить", "« Назад", "Начать заново"], 1),
    ("✅ <b>Вы записаны к врачу</b>\n\n" + VISIT + "\n\nОтменить запись можно до 18:00 6 декабря (вс).",
     ["Добавить в календарь", "Отменить визит"], 1),
)


def screen(number: int) -> tuple[str, InlineKeyboardMarkup]:
    """The screen after ``number`` presses; a button's data says which screen comes next, as
    ``bk:<step>:<ids>`` does in the bot (the ids padded to the same length)."""
    text, labels, per_row = SCREENS[number]
    builder = InlineKeyboardBuilder()
    for i, label in enumerate(labels):
        builder.button(text=label, callback_data=f"bk:{number + 1}:{i}:1042:17:20261207:88123")
    builder.adjust(per_row)
    return text, builder.as_markup()


async def book(message: Message) -> None:
    text, markup = screen(0)
    await message.answer(text, reply_markup=markup)


async def press(query: CallbackQuery) -> None:
    number = int((query.data or "bk:1").split(":")[1])
    await query.answer()
    if isinstance(query.message, Message):
        text, markup = screen(min(number, len(SCREENS) - 1))
        await query.message.edit_text(text, reply_markup=markup)


async def main() -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_BASE"]))
    bot = Bot(os.environ["BOT_TOKEN"], session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    dp = Dispatcher()
    dp.message.register(book, F.text == "Запись к врачу")
    dp.callback_query.register(press, F.data.startswith("bk:"))
    await dp.start_polling(bot, tasks_concurrency_limit=int(os.environ.get("CONCURRENT_UPDATES", "32")))


if __name__ == "__main__":
    asyncio.run(main())
