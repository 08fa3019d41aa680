"""Simulated patients of the cluster rush, and the free times they aim at.

A step's latency runs from the moment the patient's update is queued at the fake Telegram (which
then posts it to an instance) to the moment the Bot API call the patient waits for reaches it.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from core.enums import AppointmentStatus, SlotStatus
from storage.db import Database
from storage.models import Appointment, Doctor, Organization, Slot, Specialty
from tests.fake_telegram.models import BotMessage, ChatEvent
from tests.fake_telegram.user import ScriptedUser

STEPS = ("«Запись к врачу»", "specialty", "doctor", "date", "time", "«Подтвердить»")
SCREENS = ("Выберите специальность", "Выберите врача", "Выберите дату", "Выберите время", "Проверьте запись",
           "Вы записаны")


@dataclass(frozen=True)
class Plan:
    """The buttons a patient presses, by what is written on them."""

    specialty: str
    doctor: str
    day: int
    time: str
    slot_id: int

    def wants(self, press: int, label: str) -> bool:
        wanted = (self.specialty, self.doctor, self.day, self.time, "Подтвердить")[press - 1]
        if isinstance(wanted, int):
            return str(wanted) in label.split()
        return wanted in label


@dataclass
class Walk:
    latencies: list[float] = field(default_factory=list)  # seconds, one per step answered
    booked: bool = False
    error: str = ""
    finished: float = 0.0


async def _screen(user: ScriptedUser, phrase: str, timeout: float) -> ChatEvent:
    found: list[ChatEvent] = []

    def shown() -> bool:
        found.extend(e for e in user.events_since_last_action() if e.kind != "deleted" and phrase in e.text)
        return bool(found)

    if not await user.changed.wait_until(shown, timeout):
        raise TimeoutError(f"no «{phrase}» within {timeout} s:\n{user.describe_since_last_action()}")
    return found[0]


def _button(message: BotMessage, plan: Plan, press: int) -> str:
    for button in message.all_buttons():
        if "callback_data" in button and plan.wants(press, button["text"]):
            return str(button["callback_data"])
    raise LookupError(f"step {press + 1}: no button for {plan} on {message.describe()}")


async def walk(user: ScriptedUser, plan: Plan, arrival: float, timeout: float = 120.0) -> Walk:
    """Arrive at ``arrival`` (time.monotonic()) and book: «Запись к врачу», then five presses."""
    await asyncio.sleep(max(arrival - time.monotonic(), 0.0))
    done = Walk()
    try:
        queued = time.monotonic()
        await user.send("Запись к врачу")
        event = await _screen(user, SCREENS[0], timeout)
        done.latencies.append(event.at - queued)
        for press in range(1, len(STEPS)):
            data = _button(event.message, plan, press)
            queued = time.monotonic()
            user.click(data, event.message)
            event = await _screen(user, SCREENS[press], timeout)
            done.latencies.append(event.at - queued)
        done.booked = True
        done.finished = event.at
    except (TimeoutError, LookupError) as exc:
        done.error = str(exc)
    return done


async def free_times(db: Database, count: int) -> list[Plan]:
    """Free times from tomorrow to a week ahead, from each doctor in turn, so that neighbours in
    the rush aim at different doctors."""
    now = datetime.now(UTC)
    query = (select(Slot.id, Slot.starts_at, Doctor.id, Doctor.full_name, Specialty.name, Organization.timezone)
             .join(Doctor, Doctor.id == Slot.doctor_id).join(Specialty, Specialty.id == Doctor.specialty_id)
             .join(Organization, Organization.id == Doctor.organization_id)
             .where(Slot.status == SlotStatus.FREE, Doctor.active,
                    Slot.starts_at > now + timedelta(days=1), Slot.starts_at < now + timedelta(days=7))
             .order_by(Slot.starts_at, Slot.id))
    by_doctor: dict[int, list[Plan]] = defaultdict(list)
    async with db.read() as uow:
        for slot_id, starts_at, doctor_id, doctor, specialty, zone in await uow.session.execute(query):
            local = starts_at.astimezone(ZoneInfo(zone))
            by_doctor[doctor_id].append(Plan(specialty, " ".join(doctor.split()[:2]), local.day,
                                             f"{local:%H:%M}", slot_id))
    queues = list(by_doctor.values())
    plans = [q[i] for i in range(max(map(len, queues), default=0)) for q in queues if i < len(q)]
    if len(plans) < count:
        raise RuntimeError(f"the demo data has {len(plans)} free times in the coming week, the rush needs {count}")
    return plans[:count]


async def booked_twice(db: Database) -> int:
    """Times with more than one active appointment."""
    async with db.read() as uow:
        counts = await uow.session.scalars(
            select(func.count()).select_from(Appointment).where(Appointment.status == AppointmentStatus.ACTIVE)
            .group_by(Appointment.slot_id))
        return sum(n > 1 for n in counts)
