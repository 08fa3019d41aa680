"""Rough edges a patient hit (issue 15): each test failed before its fix (R12–R14, R17, R10)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.keyboards.callbacks import VisitAction, VisitCb
from core.enums import OfferStatus
from storage.db import Database
from storage.models import Appointment, Offer
from tests.e2e import world
from tests.e2e.harness import BotProcess
from tests.e2e.test_booking_e2e import to_summary
from tests.e2e.test_waitlist_e2e import free_one, queue_for
from tests.fake_telegram.server import FakeTelegramServer

pytestmark = pytest.mark.e2e

REGISTRY_PHONE = "+7 (800) 100-10-01"  # the demo polyclinic's


async def test_a_refused_cancel_shows_the_registrys_phone(fake_api: FakeTelegramServer, bot_process: BotProcess,
                                                          bot_db: Database) -> None:
    """R17: after the cutoff the refusal gives the reason and the registry's phone, whole."""
    anna, _ = await world.logged_in(bot_db, bot_process, 4001, "Анна")
    await bot_process.start()
    await to_summary(anna, bot_process)
    await anna.press("Подтвердить")
    await anna.expect("Вы записаны")
    async with bot_db.read() as uow:
        booked = await uow.session.scalar(select(Appointment).where(Appointment.made_by_account_id.is_not(None)))
    assert booked is not None
    await bot_process.stop()
    await bot_process.start(clock_at=booked.starts_at - timedelta(hours=2))
    # «Отменить визит» of the booking's own message, pressed the day of the visit.
    await anna.press_raw(VisitCb(action=VisitAction.CANCEL, appointment_id=booked.id).pack())
    refusal = await anna.expect("Отменить запись уже нельзя")
    assert REGISTRY_PHONE in refusal.text


async def test_the_place_in_the_queue_is_shown_after_a_decline_and_in_the_card_file(
        fake_api: FakeTelegramServer, bot_process: BotProcess, bot_db: Database) -> None:
    """R12, R14: declining returns the patient to the queue and says where they stand; so does the card file."""
    anna, _ = await world.logged_in(bot_db, bot_process, 4002, "Анна")
    olga, _ = await world.logged_in(bot_db, bot_process, 4003, "Ольга")
    await bot_process.start()
    await queue_for(anna)
    await queue_for(olga)
    await free_one(bot_process, bot_db)
    await anna.expect("Предлагаем время", timeout=10)
    await anna.press("Отказаться")
    await anna.expect("Отказаться от предложенного времени?")
    await anna.press("Да, отказаться")
    declined = await anna.expect("возвращены в очередь")
    assert "место в очереди: 1" in declined.text  # the place is kept (R12): Olga, offered the time now, came later
    await olga.send("Моя картотека")
    await olga.expect("Выберите человека")
    await olga.press("Иванова Анна")
    card = await olga.expect("В очереди к врачу")
    assert "место в очереди: 2" in card.text


async def test_the_third_decline_is_told_once(fake_api: FakeTelegramServer, bot_process: BotProcess,
                                             bot_db: Database) -> None:
    """R13: after the third declined offer the patient learns once that they left the queue."""
    anna, _ = await world.logged_in(bot_db, bot_process, 4004, "Анна")
    await bot_process.start()
    await queue_for(anna)
    for attempt in range(3):
        await free_one(bot_process, bot_db, attempt)
        await anna.expect(f"Предложение {attempt + 1} из 3", timeout=10)
        await anna.press("Отказаться")
        await anna.expect("Отказаться от предложенного времени?")
        await anna.press("Да, отказаться")
    await anna.expect("исключены из очереди")
    await anna.expect_no_message(within=2.0)
    told = [m for m in anna.messages if "исключены из очереди" in m.text]
    assert len(told) == 1, [m.text for m in told]


async def test_a_patient_who_blocked_the_bot_once_gets_offers_again_after_writing(
        fake_api: FakeTelegramServer, bot_process: BotProcess, bot_db: Database) -> None:
    """R10: a chat that answered 403 once is reachable again as soon as the patient writes to the bot."""
    anna, _ = await world.logged_in(bot_db, bot_process, 4005, "Анна")
    await bot_process.start()
    await queue_for(anna)
    anna.block_bot()
    await free_one(bot_process, bot_db, 0)
    for _ in range(100):  # the 403 voids the offer; nobody else queues
        async with bot_db.read() as uow:
            if await uow.session.scalar(select(Offer).where(Offer.status == OfferStatus.VOID)):
                break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the offer to a blocked chat was never voided")
    anna.unblock_bot()
    await anna.send("/menu")
    await anna.expect("Главное меню")
    await free_one(bot_process, bot_db, 1)
    await anna.expect("Предлагаем время", timeout=10)
