"""End-to-end waitlist on the real bot process (R8–R15, R26, R27)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, timedelta

import pytest
from sqlalchemy import select

from bot.keyboards.callbacks import OfferAction, OfferCb, QueueAction, QueueCb
from core.enums import OfferStatus, WaitlistStatus
from storage.db import Database
from storage.models import Offer, WaitlistEntry
from tests.e2e import world
from tests.e2e.harness import AT_ANY_HOUR, BotProcess
from tests.fake_telegram.server import FakeTelegramServer
from tests.fake_telegram.user import ScriptedUser

pytestmark = pytest.mark.e2e

BOOKED_DOCTOR = "demo-doc-05"  # the polyclinic's ophthalmologist: every time taken at the registry


async def queue_for(user: ScriptedUser, *, any_doctor: bool = False) -> None:
    """«Запись к врачу» → Офтальмолог → the fully booked doctor → «Встать в очередь» (R8, R9)."""
    await user.send("Запись к врачу")
    await user.expect("Выберите специальность")
    await user.press("Офтальмолог")
    await user.expect("Выберите врача")
    await user.press("Васильева Ольга")
    await user.expect("нет свободного времени")
    await user.press("Встать в очередь")
    await user.expect("Выберите тип записи в очередь")
    await user.press("К любому врачу этой специальности" if any_doctor else "К этому врачу")
    await user.expect("Встать в очередь")
    await user.press("Подтвердить")
    await user.expect("Вы включены в очередь")


async def free_one(bot: BotProcess, db: Database, index: int = 0) -> None:
    """The registry cancels one of its bookings from tomorrow on: still ahead when a test moves the clock hours on."""
    later = [(a, s) for a, s in await world.registry_bookings(db, BOOKED_DOCTOR)
             if s.starts_at.replace(tzinfo=UTC) > bot.now() + timedelta(days=1)]
    appointment, slot = later[index]
    await world.import_fhir(bot, world.cancelled_at_registry(appointment, slot), f"cancel-{appointment.id}.json")


async def test_queue_then_cancellation_elsewhere_then_confirm(fake_api: FakeTelegramServer, bot_process: BotProcess,
                                                              bot_db: Database) -> None:
    """R8–R11: queued; the registry cancels; the offer arrives within a second; «Подтвердить» books it."""
    anna, _ = await world.logged_in(bot_db, bot_process, 2001, "Анна")
    await bot_process.start()
    await queue_for(anna)
    assert "место в очереди: 1" in anna.last_message.text  # type: ignore[union-attr]

    started = time.monotonic()
    await free_one(bot_process, bot_db)
    offer = await anna.expect("Предлагаем время для записи на приём", timeout=10)
    assert "Предложение 1 из 3" in offer.text
    await anna.press_in(offer, "Подтвердить")
    await anna.expect("Вы записаны к врачу")
    assert time.monotonic() - started < 15

    async with bot_db.read() as uow:
        entry = await uow.session.scalar(select(WaitlistEntry))
        answered = await uow.session.scalar(select(Offer))
        assert entry is not None and entry.status == WaitlistStatus.BOOKED
        assert answered is not None and answered.status == OfferStatus.CONFIRMED
    # The same offer again (a stale button, a second device): nothing more happens.
    answer = await anna.press_raw(OfferCb(action=OfferAction.CONFIRM, offer_id=answered.id).pack())
    assert answer.show_alert and "не действует" in (answer.text or "")


async def test_three_declines_remove_from_the_queue(fake_api: FakeTelegramServer, bot_process: BotProcess,
                                                    bot_db: Database) -> None:
    """R12, R13: «Отказаться» asks to confirm, returns to the queue; after the third, out with the reason."""
    anna, _ = await world.logged_in(bot_db, bot_process, 2002, "Анна")
    await bot_process.start()
    await queue_for(anna)
    for attempt in range(3):
        await free_one(bot_process, bot_db, attempt)
        await anna.expect(f"Предложение {attempt + 1} из 3", timeout=10)
        await anna.press("Отказаться")
        await anna.expect("Отказаться от предложенного времени?")
        await anna.press("Да, отказаться")
        if attempt < 2:
            await anna.expect(f"возвращены в очередь. Осталось предложений: {2 - attempt}")
    await anna.expect("Вы исключены из очереди")
    async with bot_db.read() as uow:
        entry = await uow.session.scalar(select(WaitlistEntry))
        assert entry is not None and entry.status == WaitlistStatus.EXHAUSTED and entry.offers_used == 3


@AT_ANY_HOUR
async def test_offer_expires_while_the_bot_is_down(fake_api: FakeTelegramServer, bot_process: BotProcess,
                                                   bot_db: Database) -> None:
    """R15: an offer that lapsed while the bot was stopped is expired on start and goes to the next patient."""
    anna, _ = await world.logged_in(bot_db, bot_process, 2003, "Анна")
    olga, _ = await world.logged_in(bot_db, bot_process, 2004, "Ольга")
    await bot_process.start()
    await queue_for(anna)
    await queue_for(olga)
    assert "место в очереди: 2" in olga.last_message.text  # type: ignore[union-attr]
    await free_one(bot_process, bot_db)
    await anna.expect("Предлагаем время", timeout=10)
    await bot_process.stop()

    # Three hours later (the offer time is 2 hours): the bot comes back.
    await bot_process.start(clock_at=bot_process.now() + timedelta(hours=3))
    await anna.expect("Время на ответ истекло", timeout=10)
    await olga.expect("Предлагаем время", timeout=10)
    async with bot_db.read() as uow:
        statuses = sorted(o.status for o in await uow.session.scalars(select(Offer)))
    assert statuses == sorted([OfferStatus.EXPIRED, OfferStatus.PENDING])


async def test_leave_the_queue_from_the_card_file(fake_api: FakeTelegramServer, bot_process: BotProcess,
                                                  bot_db: Database) -> None:
    """R14: card file → person → «Отменить визит» on the queue entry → confirm."""
    anna, _ = await world.logged_in(bot_db, bot_process, 2005, "Анна")
    await bot_process.start()
    await queue_for(anna)
    await anna.send("Моя картотека")
    await anna.expect("Выберите человека")
    await anna.press("Иванова Анна")
    await anna.expect("В очереди к врачу Васильева")
    await anna.press("Отменить визит (выйти из очереди)")
    await anna.expect("Выйти из очереди?")
    await anna.press("Да, выйти из очереди")
    await anna.expect("Вы вышли из очереди")
    await free_one(bot_process, bot_db)
    await anna.expect_no_message(within=2.0)
    async with bot_db.read() as uow:
        entry = await uow.session.scalar(select(WaitlistEntry))
        assert entry is not None and entry.status == WaitlistStatus.LEFT


async def test_confirm_from_the_card_file_and_any_doctor(fake_api: FakeTelegramServer, bot_process: BotProcess,
                                                         bot_db: Database) -> None:
    """R9, R11: queued for any ophthalmologist; a new doctor's time is published; the card file row shows
    «Подтвердить», which books it."""
    anna, _ = await world.logged_in(bot_db, bot_process, 2006, "Анна")
    await bot_process.start()
    await queue_for(anna, any_doctor=True)
    starts = (bot_process.now() + timedelta(days=3)).replace(hour=7, minute=0, second=0, microsecond=0)
    await world.import_fhir(bot_process, {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Practitioner", "id": "pr-new", "name": [{"family": "Новикова",
                                                                              "given": ["Вера", "Павловна"]}]}},
        {"resource": {"resourceType": "PractitionerRole", "id": "demo-gp1-new-eye", "active": True,
                      "practitioner": {"reference": "Practitioner/pr-new"},
                      "organization": {"reference": "Organization/demo-gp1"},
                      "specialty": [{"coding": [{"code": "ophthalmologist", "display": "Офтальмолог"}]}]}},
        {"resource": {"resourceType": "Schedule", "id": "sch-new-eye", "active": True,
                      "actor": [{"reference": "PractitionerRole/demo-gp1-new-eye"}]}},
        {"resource": {"resourceType": "Slot", "id": "new-eye-1", "schedule": {"reference": "Schedule/sch-new-eye"},
                      "status": "free", "start": starts.isoformat(),
                      "end": (starts + timedelta(minutes=30)).isoformat()}},
    ]})
    await anna.expect("Новикова Вера Павловна", timeout=10)
    await anna.send("Моя картотека")
    await anna.expect("Выберите человека")
    await anna.press("Иванова Анна")
    await anna.expect("Предложено время")
    await anna.press("Подтвердить")
    booked = await anna.expect("Вы записаны к врачу")
    assert "Новикова" in booked.text


async def test_no_queue_button_where_the_organization_keeps_none(fake_api: FakeTelegramServer,
                                                                 bot_process: BotProcess, bot_db: Database) -> None:
    """R8, R26: a fully booked doctor of an organization without waitlists offers no «Встать в очередь»;
    a forged queue button is refused too."""
    await world.fully_book(bot_db, "demo-doc-12")
    anna, (patient,) = await world.logged_in(bot_db, bot_process, 2007, "Анна")
    await bot_process.start()
    await anna.send("Запись к врачу")
    await anna.expect("Выберите специальность")
    await anna.press("Невролог")
    await anna.expect("Выберите врача")
    await anna.press("Алексеев")
    screen = await anna.expect("нет свободного времени")
    assert not any("Встать в очередь" in label for row in screen.buttons for label in row)
    doctor = await world.doctor(bot_db, "demo-doc-12")
    answer = await anna.press_raw(QueueCb(action=QueueAction.CONFIRM_DOCTOR, patient_id=patient.id,
                                             doctor_id=doctor.id).pack())
    assert answer.show_alert and "не ведёт очередь" in (answer.text or "")


async def test_blocked_bot_moves_the_offer_on(fake_api: FakeTelegramServer, bot_process: BotProcess,
                                              bot_db: Database) -> None:
    """A 403 on delivery (the patient blocked the bot) passes the offer to the next patient at once."""
    anna, _ = await world.logged_in(bot_db, bot_process, 2008, "Анна")
    olga, _ = await world.logged_in(bot_db, bot_process, 2009, "Ольга")
    await bot_process.start()
    await queue_for(anna)
    await queue_for(olga)
    anna.block_bot()
    await free_one(bot_process, bot_db)
    await olga.expect("Предлагаем время", timeout=10)
    async with bot_db.read() as uow:
        offers = list(await uow.session.scalars(select(Offer).order_by(Offer.id)))
    assert [o.status for o in offers] == [OfferStatus.VOID, OfferStatus.PENDING]


async def test_someone_elses_offer_and_double_confirm(fake_api: FakeTelegramServer, bot_process: BotProcess,
                                                      bot_db: Database) -> None:
    """Confirming another patient's offer, or one offer twice at the same instant, books once at most."""
    anna, _ = await world.logged_in(bot_db, bot_process, 2010, "Анна")
    mallory, _ = await world.logged_in(bot_db, bot_process, 2011, "Мэллори")
    await bot_process.start()
    await queue_for(anna)
    await free_one(bot_process, bot_db)
    offer_message = await anna.expect("Предлагаем время", timeout=10)
    async with bot_db.read() as uow:
        offer = await uow.session.scalar(select(Offer))
    assert offer is not None
    await mallory.send("/menu")
    await mallory.expect("Главное меню")
    forged = await mallory.press_raw(OfferCb(action=OfferAction.CONFIRM, offer_id=offer.id).pack())
    assert forged.show_alert
    first, second = await asyncio.gather(anna.press_in(offer_message, "Подтвердить"),
                                         anna.press_in(offer_message, "Подтвердить"))
    assert sorted([first.show_alert, second.show_alert]) == [False, True]
    async with bot_db.read() as uow:
        offers = list(await uow.session.scalars(select(Offer)))
    assert [o.status for o in offers] == [OfferStatus.CONFIRMED]
