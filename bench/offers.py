"""Waitlist offers on the real bot process talking HTTP to the fake Bot API.

- Event to offer: a patient cancels (presses «Ок»); the freed time is offered to the next in the
  queue. Measured from the press to the offer's sendMessage reaching the fake API, p50 and p95
  over 200 events; the baseline is the same bot answering /help in the same run.
- Fan-out: a doctor's day of 30 booked slots is cancelled with 30 patients queued: offers sent
  per second, and the most in any one second overall and to any one chat.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from bench.common import Outcome, figure, services
from bot.keyboards.callbacks import VisitAction, VisitCb
from core.clock import SystemClock
from core.enums import AppointmentSource, AppointmentStatus, SlotStatus, WaitlistStatus
from storage import migrate
from storage.db import Database
from storage.models import Appointment, WaitlistEntry
from tests import factories
from tests.e2e.harness import BotProcess
from tests.fake_telegram.server import FakeTelegramServer

EVENTS = 200
LIMIT = 1.0  # seconds, p95
FAN_OUT = 30
BOOKER, QUEUED = 50_000, 60_000


async def _scene(db: Database, slots: int, *, same_day: bool) -> tuple[list[int], int]:
    """A doctor whose ``slots`` times are all booked by one patient, and ``slots`` patients queued."""
    now = datetime.now(UTC)
    _, (doctor,) = await factories.clinic(db, waitlist=True)
    booker, (owner,) = await factories.account(db, BOOKER, now)
    first = (now + timedelta(days=3)).replace(hour=5, minute=0, second=0, microsecond=0)
    step = timedelta(minutes=10) if same_day else timedelta(minutes=30)
    rows = await factories.slots(db, doctor, first, slots, step=step, status=SlotStatus.BOOKED)
    queued = [await factories.account(db, QUEUED + i, now) for i in range(slots)]
    async with db.write() as uow:
        result = await uow.session.execute(insert(Appointment).returning(Appointment.id), [{
            "slot_id": s.id, "doctor_id": doctor.id, "starts_at": s.starts_at, "patient_id": owner.id,
            "made_by_account_id": booker.account_id, "source": AppointmentSource.PORTAL,
            "status": AppointmentStatus.ACTIVE, "created_at": now} for s in rows])
        appointment_ids = list(result.scalars())
        await uow.session.execute(insert(WaitlistEntry), [{
            "patient_id": patients[0].id, "account_id": identity.account_id,
            "organization_id": doctor.organization_id, "specialty_id": doctor.specialty_id, "doctor_id": doctor.id,
            "status": WaitlistStatus.WAITING, "offers_used": 0, "queued_at": now + timedelta(milliseconds=i),
        } for i, (identity, patients) in enumerate(queued)])
        await uow.commit()
    return appointment_ids, doctor.id


async def _started(api: FakeTelegramServer, folder: Path, slots: int, *, same_day: bool
                   ) -> tuple[BotProcess, Database, list[int]]:
    bot = BotProcess(api, folder, {"DEMO_DATA": "false"})
    db = Database(bot.database_url)
    await migrate.upgrade(db.engine)
    appointments, _ = await _scene(db, slots, same_day=same_day)
    for i in range(slots):
        api.user(QUEUED + i, f"Пациент {i}")
    await bot.start()
    return bot, db, appointments


async def _offer_sent(api: FakeTelegramServer, chat_id: int, timeout: float = 10.0) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for call in api.calls:
            if call.method == "sendMessage" and call.chat_id == chat_id and call.ok:
                return call.at
        await asyncio.sleep(0.002)
    raise AssertionError(f"no offer reached chat {chat_id} in {timeout} s")


def _p(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100)[q - 1] if len(samples) > 1 else samples[0]


async def event_to_offer() -> tuple[list[str], float]:
    async with FakeTelegramServer() as api:
        with tempfile.TemporaryDirectory() as folder:
            bot, db, appointments = await _started(api, Path(folder), EVENTS, same_day=False)
            booker = api.user(BOOKER, "Борис")
            try:
                baseline, latency = [], []
                for i, appointment_id in enumerate(appointments):
                    start = time.monotonic()
                    await booker.send("/help")
                    await booker.expect("Что умеет бот")
                    baseline.append(time.monotonic() - start)
                    start = time.monotonic()
                    await booker.press_raw(VisitCb(action=VisitAction.CANCEL, appointment_id=appointment_id).pack())
                    latency.append(await _offer_sent(api, QUEUED + i) - start)
            finally:
                await bot.stop()
                await db.dispose()
    return [
        figure(f"event → offer, p50 over {EVENTS}", _p(latency, 50) * 1e3, "ms", "/help → reply, p50",
               _p(baseline, 50) * 1e3),
        figure(f"event → offer, p95 over {EVENTS}", _p(latency, 95) * 1e3, "ms", "/help → reply, p95",
               _p(baseline, 95) * 1e3),
    ], _p(latency, 95)


async def fan_out() -> list[str]:
    async with FakeTelegramServer() as api:
        with tempfile.TemporaryDirectory() as folder:
            bot, db, appointments = await _started(api, Path(folder), FAN_OUT, same_day=True)
            try:
                clinic_side = services(db, SystemClock())
                identity = await clinic_side.access.identify(BOOKER, BOOKER)
                for appointment_id in appointments:  # the whole day, as fast as the database takes it
                    await clinic_side.booking.cancel(identity, appointment_id)
                times = [await _offer_sent(api, QUEUED + i, timeout=30) for i in range(FAN_OUT)]
            finally:
                await bot.stop()
                await db.dispose()
    stats = api.send_rate(window=1.0)
    span = max(times) - min(times)
    rate = (FAN_OUT - 1) / span if span > 0 else float("inf")
    return [f"fan-out: {FAN_OUT} offers in {span:.2f} s = {rate:.1f} offers/s | most in any 1 s: {stats.overall} "
            f"(limit 30) | most to one chat in 1 s: {stats.max_per_chat} (limit 1)"]


async def run() -> Outcome:
    lines, p95 = await event_to_offer()
    ok = p95 < LIMIT
    return Outcome([*lines, *(await fan_out())],
                   f"event → offer: p95 {p95 * 1e3:.0f} ms, limit {LIMIT * 1e3:.0f} ms — {'OK' if ok else 'FAIL'}", ok)

