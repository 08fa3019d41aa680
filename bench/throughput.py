"""Throughput: simulated patients run the whole booking conversation through the real Dispatcher.

Each variant runs in a fresh subprocess, so its peak memory (ru_maxrss) is its own. The
baseline is bare aiogram: an echo handler with memory FSM, fed the same number of updates.
"""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from aiogram import Bot, Dispatcher, Router
from aiogram.types import Message

from bench.common import figure
from storage.db import Database
from tests.fakes.session import RecordingSession
from tests.fakes.updates import callback_update, message_update

PATIENTS = 300
CONCURRENCY = 30
STEPS = 6  # «Запись к врачу», specialty, doctor, date, time, «Подтвердить»


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _bare() -> dict[str, float]:
    bot = Bot("123456:BENCH", session=RecordingSession(record=False))
    router = Router()

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    dp = Dispatcher()
    dp.include_router(router)
    updates = [message_update(10_000 + i % PATIENTS, "Запись к врачу", bot=bot) for i in range(PATIENTS * STEPS)]
    start = time.perf_counter()
    for i in range(0, len(updates), CONCURRENCY):
        await asyncio.gather(*(dp.feed_update(bot, u) for u in updates[i:i + CONCURRENCY]))
    elapsed = time.perf_counter() - start
    return {"updates_per_s": len(updates) / elapsed, "peak_mib": _peak_mib()}


async def _bot(backend: str) -> dict[str, float]:
    from bench.common import database

    async with database(backend) as db:
        return await _conversations(db)


async def _conversations(db: Database) -> dict[str, float]:
    from bot.config import Settings
    from bot.container import build_container
    from bot.dispatcher import build_dispatcher
    from bot.keyboards.booking import day_key
    from bot.keyboards.callbacks import BookCb, BookStep
    from core.clock import SystemClock
    from core.enums import SlotStatus
    from storage.models import Slot
    from tests import factories

    now = datetime.now(UTC)
    _, doctors = await factories.clinic(db, doctors=10)
    slots: list[Slot] = []
    for doctor in doctors:
        slots += await factories.slots(db, doctor, now.replace(minute=0, second=0, microsecond=0)
                                       + (datetime(2000, 1, 3) - datetime(2000, 1, 1)), PATIENTS // 10 + 1,
                                       status=SlotStatus.FREE)
    people = [await factories.account(db, 10_000 + i, now) for i in range(PATIENTS)]
    settings = Settings(bot_token="123456:BENCH", consent_policy_version=factories.CONSENT)  # type: ignore[arg-type]
    container = build_container(settings, db, SystemClock())
    dp = build_dispatcher(container)
    bot = Bot("123456:BENCH", session=RecordingSession(record=False))

    def conversation(i: int) -> list[object]:
        identity, (patient,) = people[i]
        slot = slots[i]
        doctor = next(d for d in doctors if d.id == slot.doctor_id)
        day = day_key(slot.starts_at.astimezone(ZoneInfo("Europe/Moscow")).date())
        user = identity.telegram_id
        base = {"patient_id": patient.id, "specialty_id": doctor.specialty_id}
        chosen = {**base, "doctor_id": doctor.id}
        steps = [  # the buttons a patient presses, in order, as the bot's keyboards pack them
            BookCb(step=BookStep.SPECIALTY, **base),
            BookCb(step=BookStep.DOCTOR, **chosen),
            BookCb(step=BookStep.DAY, day=day, **chosen),
            BookCb(step=BookStep.SLOT, day=day, slot_id=slot.id, **chosen),
            BookCb(step=BookStep.CONFIRM, day=day, slot_id=slot.id, **chosen),
        ]
        return [message_update(user, "Запись к врачу", bot=bot),
                *(callback_update(user, s.pack(), message_id=1, bot=bot) for s in steps)]

    # Built before the clock starts, as the baseline's are: the figure is the bot's, not the fakes'.
    conversations = [conversation(i) for i in range(PATIENTS)]

    async def patient(i: int) -> None:
        for update in conversations[i]:
            await dp.feed_update(bot, update)  # type: ignore[arg-type]

    start = time.perf_counter()
    for i in range(0, PATIENTS, CONCURRENCY):
        await asyncio.gather(*(patient(j) for j in range(i, min(i + CONCURRENCY, PATIENTS))))
    elapsed = time.perf_counter() - start
    async with db.read() as uow:
        from sqlalchemy import func, select

        from storage.models import Appointment
        booked = await uow.session.scalar(select(func.count()).select_from(Appointment))
    return {"updates_per_s": PATIENTS * STEPS / elapsed, "peak_mib": _peak_mib(), "booked": float(booked or 0)}


def _child(variant: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-m", "bench.throughput", variant], capture_output=True, text=True,
                         check=True, timeout=600)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def run(backends: tuple[str, ...] = ("sqlite",)) -> list[str]:
    bare = _child("bare")
    lines = []
    for backend in backends:
        bot = _child(backend)
        lines.append(figure(f"throughput: booking conversation ({PATIENTS} patients × {STEPS} updates, {backend})",
                            bot["updates_per_s"], "updates/s", "bare aiogram echo", bare["updates_per_s"])
                     + f" — {int(bot['booked'])} of {PATIENTS} booked")
        lines.append(figure(f"peak memory of the bot process ({backend})", bot["peak_mib"], "MiB",
                            "bare aiogram echo", bare["peak_mib"]))
    return lines


if __name__ == "__main__":
    result = asyncio.run(_bare() if sys.argv[1] == "bare" else _bot(sys.argv[1]))
    print(json.dumps(result))
