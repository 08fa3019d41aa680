"""Setting the scene for end-to-end tests: people already logged in, clinic-side changes."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.texts.common import MONTHS
from core.enums import AppointmentStatus, AuthMethod, SlotStatus
from core.fhir.model import EXT_SOURCE, SID_OMS
from storage.db import Database
from storage.models import Appointment, Doctor, Patient, Slot
from tests import factories
from tests.e2e.harness import BotProcess
from tests.fake_telegram.user import ScriptedUser


async def logged_in(db: Database, bot: BotProcess, telegram_id: int, name: str, *, people: int = 1,
                    method: AuthMethod = AuthMethod.EMAIL, oms: str | None = None
                    ) -> tuple[ScriptedUser, list[Patient]]:
    """A patient who consented, logged in and whose card file a moderator confirmed earlier (scene time)."""
    _, patients = await factories.account(db, telegram_id, bot.now(), people=people, method=method, oms=oms)
    return bot.api.user(telegram_id, name), patients


def cancellable_day(labels: list[str], now: datetime, cutoff: time = time(18, 0)) -> str:
    """The first date button («пт 11 декабря») whose visits can still be cancelled for a while (R17):
    the cutoff, ``cutoff`` Moscow time of the day before, is more than an hour after ``now``."""
    for label in labels:
        parts = label.split()
        if len(parts) != 3 or parts[2] not in MONTHS or not parts[1].isdigit():
            continue  # «« Назад», the pager, «Встать в очередь»
        _, day, month = parts
        guess = date(now.year, MONTHS.index(month) + 1, int(day))
        visit_day = guess if guess >= now.date() - timedelta(days=1) else guess.replace(year=now.year + 1)
        deadline = datetime.combine(visit_day - timedelta(days=1), cutoff, ZoneInfo("Europe/Moscow"))
        if deadline > now + timedelta(hours=1):
            return label
    raise AssertionError(f"no date among {labels} can be cancelled after {now}")


async def doctor(db: Database, external_id: str) -> Doctor:
    async with db.read() as uow:
        found = await uow.clinic.doctor_by_external(external_id)
    assert found is not None
    return found


async def registry_bookings(db: Database, doctor_external_id: str) -> list[tuple[Appointment, Slot]]:
    """The demo doctor's appointments made at the registry, soonest first."""
    async with db.read() as uow:
        rows = await uow.session.execute(
            select(Appointment, Slot).join(Slot, Slot.id == Appointment.slot_id).join(Doctor)
            .where(Doctor.external_id == doctor_external_id, Appointment.status == AppointmentStatus.ACTIVE)
            .order_by(Slot.starts_at))
        return [(a, s) for a, s in rows.all()]


async def fully_book(db: Database, doctor_external_id: str) -> None:
    """Every free time of a doctor taken elsewhere, as the clinic's system would report it."""
    target = await doctor(db, doctor_external_id)
    async with db.write() as uow:
        for slot_id, _ in await uow.slots.free_of_doctor(target.id, datetime(2000, 1, 1, tzinfo=UTC),
                                                         datetime(2100, 1, 1, tzinfo=UTC)):
            await uow.slots.set_status(slot_id, SlotStatus.BOOKED, expected=SlotStatus.FREE)
        await uow.commit()


def cancelled_at_registry(appointment: Appointment, slot: Slot) -> dict[str, Any]:
    """A FHIR bundle from the clinic: the registry appointment was cancelled (R27 → R10)."""
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {
        "resourceType": "Appointment", "id": appointment.external_id, "status": "cancelled",
        "extension": [{"url": EXT_SOURCE, "valueCode": "registry"}],
        "slot": [{"reference": f"Slot/{slot.external_id}"}],
        "participant": [{"actor": {"type": "Patient", "identifier": {"system": SID_OMS,
                                                                       "value": appointment.patient_oms}},
                         "status": "declined"}],
    }}]}


async def import_fhir(bot: BotProcess, bundle: dict[str, Any], name: str = "bundle.json") -> str:
    path = bot.folder / name
    path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    code, output = await bot.run_cli("import-fhir", str(path))
    assert code == 0, output
    return output
