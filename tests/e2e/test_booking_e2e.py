"""End-to-end booking and cancelling on the real bot process (R5–R7, R16–R23, R27)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.keyboards.callbacks import BookCb, BookStep, VisitAction, VisitCb
from core.cutoff import cancel_deadline
from core.enums import AppointmentStatus, AuthMethod
from storage.db import Database
from storage.models import Appointment
from tests.e2e import world
from tests.e2e.harness import AT_ANY_HOUR, BotProcess
from tests.fake_telegram.server import FakeTelegramServer
from tests.fake_telegram.user import ScriptedUser

pytestmark = pytest.mark.e2e


def labels(buttons: list[list[str]]) -> list[str]:
    return [label for row in buttons for label in row]


async def to_summary(user: ScriptedUser, bot: BotProcess, doctor: str = "Иванова Мария",
                     person: str | None = None) -> tuple[str, str]:
    """«Запись к врачу» up to the summary of the doctor's first free time on the first day whose visits
    may still be cancelled (whatever the hour and weekday of the scene); returns the day and time labels."""
    await user.send("Запись к врачу")
    if person is not None:
        await user.expect("Кого записать?")
        await user.press(person)
    await user.expect("Выберите специальность")
    await user.press("Терапевт")
    await user.expect("Выберите врача")
    await user.press(doctor)
    dates = await user.expect("Выберите дату")
    day = world.cancellable_day(labels(dates.buttons), bot.now())
    await user.press(day)
    times = await user.expect("Выберите время")
    label = times.buttons[0][0]
    await user.press(label)
    await user.expect("Проверьте запись")
    return day, label


@AT_ANY_HOUR
async def test_book_for_a_family_member(fake_api: FakeTelegramServer, bot_process: BotProcess,
                                        bot_db: Database) -> None:
    """R5, R6, R20: with two people the person is chosen first; the card file then shows the visit."""
    anna, (_, maria) = await world.logged_in(bot_db, bot_process, 3001, "Анна", people=2)
    await bot_process.start()
    await to_summary(anna, bot_process, person="Мария")
    summary = anna.last_message
    assert summary is not None and f"Пациент: {maria.full_name}" in summary.text
    await anna.press("Подтвердить")
    booked = await anna.expect("Вы записаны к врачу")
    assert "Кабинет: 101" in booked.text and "Отменить запись можно до" in booked.text
    await anna.press("Добавить в календарь")
    await asyncio.sleep(0.5)
    assert anna.documents and anna.documents[-1].data is not None
    assert b"BEGIN:VEVENT" in anna.documents[-1].data

    await anna.send("Моя картотека")
    await anna.expect("Выберите человека")
    await anna.press(maria.full_name)
    card = await anna.expect("Предстоящие визиты")
    assert "Иванова Мария Петровна" in card.text
    assert any("Отменить визит" in label for row in card.buttons for label in row)


async def test_two_users_race_for_one_time(fake_api: FakeTelegramServer, bot_process: BotProcess,
                                           bot_db: Database) -> None:
    """R7: two patients confirm the same time at once; one gets it, the other is told and sees fresh times."""
    anna, _ = await world.logged_in(bot_db, bot_process, 3002, "Анна")
    boris, _ = await world.logged_in(bot_db, bot_process, 3003, "Борис")
    await bot_process.start()
    first = await to_summary(anna, bot_process)
    second = await to_summary(boris, bot_process)
    assert first == second
    answers = await asyncio.gather(anna.press("Подтвердить"), boris.press("Подтвердить"))
    loser = boris if answers[1].show_alert else anna
    assert sorted(a.show_alert for a in answers) == [False, True]
    assert "уже занято" in (answers[1].text if answers[1].show_alert else answers[0].text or "")
    fresh = await loser.expect("Выберите время")
    assert first[1] not in labels(fresh.buttons)
    async with bot_db.read() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Appointment).where(
            Appointment.made_by_account_id.is_not(None))) == 1


@AT_ANY_HOUR
async def test_cancel_before_and_after_the_cutoff(fake_api: FakeTelegramServer, bot_process: BotProcess,
                                                  bot_db: Database) -> None:
    """R17, R18: «Отменить визит» → confirm works before the cutoff; after it, refused with the reason."""
    anna, _ = await world.logged_in(bot_db, bot_process, 3004, "Анна")
    await bot_process.start()
    await to_summary(anna, bot_process)
    await anna.press("Подтвердить")
    await anna.expect("Вы записаны")
    await to_summary(anna, bot_process, doctor="Смирнов")
    await anna.press("Подтвердить")
    await anna.expect("Вы записаны")

    await anna.send("Моя картотека")
    await anna.expect("Выберите человека")
    await anna.press("Иванова Анна")
    await anna.expect("Предстоящие визиты")
    await anna.press("Иванова", row=1)
    await anna.expect("Отменить запись?")
    await anna.press("Ок")
    await anna.expect("Запись отменена")

    async with bot_db.read() as uow:
        remaining = await uow.session.scalar(select(Appointment).where(
            Appointment.status == AppointmentStatus.ACTIVE, Appointment.made_by_account_id.is_not(None)))
    assert remaining is not None
    # The next day's lists are made: restart the bot an hour past the cutoff (clinic time, 18:00 the day before).
    deadline = cancel_deadline(remaining.starts_at, "Europe/Moscow", datetime.min.time().replace(hour=18))
    await bot_process.stop()
    await bot_process.start(clock_at=deadline + timedelta(hours=1))
    answer = await anna.press_raw(VisitCb(action=VisitAction.CANCEL, appointment_id=remaining.id).pack())
    assert answer.show_alert and "Отменить запись уже нельзя" in (answer.text or "")
    async with bot_db.read() as uow:
        assert (await uow.appointments.get(remaining.id)).status == AppointmentStatus.ACTIVE  # type: ignore[union-attr]


@AT_ANY_HOUR
async def test_cancel_from_the_doctors_schedule(fake_api: FakeTelegramServer, bot_process: BotProcess,
                                                bot_db: Database) -> None:
    """R19: the day's schedule marks the account's own booking 🟥; tapping it and «Ок» cancels it."""
    anna, _ = await world.logged_in(bot_db, bot_process, 3005, "Анна")
    await bot_process.start()
    day, label = await to_summary(anna, bot_process)
    await anna.press("Подтвердить")
    await anna.expect("Вы записаны")
    await anna.send("Запись к врачу")
    await anna.expect("Выберите специальность")
    await anna.press("Терапевт")
    await anna.expect("Выберите врача")
    await anna.press("Иванова Мария")
    await anna.expect("Выберите дату")
    await anna.press(day)
    await anna.expect("Выберите время")
    await anna.press("Расписание дня")
    schedule = await anna.expect("ваша запись")
    assert f"🟥 {label}" in [b for row in schedule.buttons for b in row]
    await anna.press(f"🟥 {label}")
    await anna.expect("Отменить запись?")
    await anna.press("Ок")
    await anna.expect("Запись отменена")
    await anna.press("К расписанию")
    again = await anna.expect("ваша запись")
    assert f"🟢 {label}" in [b for row in again.buttons for b in row]


async def test_esia_owner_sees_a_registry_visit_an_email_account_does_not(
        fake_api: FakeTelegramServer, bot_process: BotProcess, bot_db: Database) -> None:
    """R21, R22, R27: a registry appointment imported from FHIR shows for the ESIA owner with that policy."""
    policy = "7700000000000777"
    oleg, _ = await world.logged_in(bot_db, bot_process, 3006, "Олег", method=AuthMethod.ESIA, oms=policy)
    emma, _ = await world.logged_in(bot_db, bot_process, 3007, "Эмма", method=AuthMethod.EMAIL, oms=policy)
    await bot_process.start()
    appointment, slot = (await world.registry_bookings(bot_db, "demo-doc-05"))[0]
    bundle = world.cancelled_at_registry(appointment, slot)
    resource = bundle["entry"][0]["resource"]
    resource["status"] = "booked"
    resource["participant"][0]["actor"]["identifier"]["value"] = policy
    await world.import_fhir(bot_process, bundle)

    for user, sees in ((oleg, True), (emma, False)):
        await user.send("Моя картотека")
        await user.expect("Выберите человека")
        await user.press("Иванова Анна")
        card = await user.expect("Статус")
        assert ("[регистратура]" in card.text) is sees, card.text


async def test_forged_buttons_cannot_cancel_or_book(fake_api: FakeTelegramServer, bot_process: BotProcess,
                                                   bot_db: Database) -> None:
    """R16, R7: a forged callback cancelling another account's appointment, or booking a past or held
    slot, fails and changes nothing."""
    anna, _ = await world.logged_in(bot_db, bot_process, 3008, "Анна")
    mallory, (m_patient,) = await world.logged_in(bot_db, bot_process, 3009, "Мэллори")
    await bot_process.start()
    await to_summary(anna, bot_process)
    await anna.press("Подтвердить")
    await anna.expect("Вы записаны")
    async with bot_db.read() as uow:
        appointment = await uow.session.scalar(select(Appointment).where(Appointment.made_by_account_id.is_not(None)))
    assert appointment is not None
    await mallory.send("/menu")
    await mallory.expect("Главное меню")
    answer = await mallory.press_raw(VisitCb(action=VisitAction.CANCEL, appointment_id=appointment.id).pack())
    assert answer.show_alert and "Не нашёл" in (answer.text or "")
    # Booking the slot Anna holds, and a registry-booked one, by forged «Подтвердить».
    _, registry_slot = (await world.registry_bookings(bot_db, "demo-doc-05"))[0]
    for slot_id in (appointment.slot_id, registry_slot.id):
        forged = BookCb(step=BookStep.CONFIRM, patient_id=m_patient.id, doctor_id=appointment.doctor_id,
                        slot_id=slot_id)
        answer = await mallory.press_raw(forged.pack())
        assert answer.show_alert and "уже занято" in (answer.text or "")
    async with bot_db.read() as uow:
        assert (await uow.appointments.get(appointment.id)).status == AppointmentStatus.ACTIVE  # type: ignore[union-attr]
        mine = await uow.session.scalar(select(func.count()).select_from(Appointment).where(
            Appointment.patient_id == m_patient.id))
    assert mine == 0
