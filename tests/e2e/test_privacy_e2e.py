"""End-to-end: «Мои данные» and deleting the account on the real bot process (152-FZ)."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import select

from core.enums import AppointmentStatus
from storage.db import Database
from storage.models import Account, Appointment, Patient, TelegramUser
from tests.e2e import world
from tests.e2e.harness import BotProcess
from tests.e2e.test_booking_e2e import to_summary
from tests.fake_telegram.server import FakeTelegramServer

pytestmark = pytest.mark.e2e


async def test_my_data_then_delete_the_account_cancelling_a_visit(
        fake_api: FakeTelegramServer, bot_process: BotProcess, bot_db: Database) -> None:
    anna, (owner,) = await world.logged_in(bot_db, bot_process, 3101, "Анна")
    await bot_process.start()
    await to_summary(anna, bot_process)
    await anna.press("Подтвердить")
    await anna.expect("Вы записаны к врачу")

    await anna.send("/mydata")
    shown = await anna.expect("Мои данные")
    assert owner.full_name in shown.text and owner.oms_policy in shown.text
    await anna.expect("Все данные — в файле")
    await asyncio.sleep(0.2)
    exported = json.loads(anna.documents[-1].data or b"{}")
    assert [p["oms_policy"] for p in exported["people"]] == [owner.oms_policy]
    [visit] = exported["visits"]
    assert visit["status"] == "active"

    await anna.send("/privacy")
    await anna.expect("Ваши персональные данные")
    await anna.press("Удалить учётную запись")
    warning = await anna.expect("У вас есть предстоящие визиты")
    assert owner.full_name in warning.text
    await anna.press("Удалить и отменить визиты")
    await anna.expect("Учётная запись удалена")
    await anna.expect("нажмите /start")

    async with bot_db.read() as uow:
        assert await uow.session.get(Account, owner.account_id) is None
        assert list(await uow.session.scalars(select(Patient).where(Patient.account_id == owner.account_id))) == []
        assert await uow.session.get(TelegramUser, 3101) is None
        appointment = await uow.session.get(Appointment, visit["id"])
        assert appointment is not None and appointment.status == AppointmentStatus.CANCELLED
        assert (appointment.patient_id, appointment.patient_oms) == (None, None)

    await anna.send("/start")  # nothing of hers is processed until she consents again
    await anna.expect("Согласие на обработку персональных данных")
