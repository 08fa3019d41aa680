"""Setting the scene for end-to-end tests: people already logged in, clinic-side changes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from core.enums import AppointmentStatus, AuthMethod, SlotStatus
from core.fhir.model import EXT_SOURCE, SID_OMS
from storage.db import Database
from storage.models import Appointment, Doctor, Patient, Slot
from tests import factories
from tests.e2e.harness import BotProcess
from tests.fake_telegram.server import FakeTelegramServer
from tests.fake_telegram.user import ScriptedUser


async def logged_in(db: Database, api: FakeTelegramServer, telegram_id: int, name: str, *, people: int = 1,
                    method: AuthMethod = AuthMethod.EMAIL, oms: str | None = None
                    ) -> tuple[ScriptedUser, list[Patient]]:
    """A patient who consented, logged in and whose card file a moderator confirmed earlier."""
    _, patients = await factories.account(db, telegram_id, datetime.now(UTC), people=people, method=method, oms=oms)
    return api.user(telegram_id, name), patients


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
