"""Throughput: simulated patients run the whole booking conversation through the real Dispatcher.

Each variant runs in a fresh subprocess, so its peak memory (ru_maxrss) is its own. The
baseline is bare aiogram: an echo handler with memory FSM, fed the same number of updates.
"""

from __future__ import annotations

import asyncio
import gc
import json
import resource
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from aiogram import Bot, Dispatcher, Router
from aiogram.types import Message
from sqlalchemy import func, select

from bench.common import figure
from storage.db import Database
from storage.models import Appointment
from tests.fakes.session import RecordingSession
from tests.fakes.updates import callback_update, message_update

PATIENTS = 300
CONCURRENCY = 30
ROUNDS = 3  # runs of each figure: the best of them for separate processes, the median for the paired one
WARMUP = CONCURRENCY  # one untimed round first, in both variants: connections, statement caches
STEPS = 6  # «Запись к врачу», specialty, doctor, date, time, «Подтвердить»
STEP_NAMES = ("«Запись к врачу» (who is this, the card file)", "specialty → doctors", "doctor → dates",
              "date → times", "time → summary", "«Подтвердить» (the booking)")


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _Echo:
    """The baseline: bare aiogram, an echo handler with memory FSM, fed the patients' first text."""

    def __init__(self) -> None:
        self.bot = Bot("123456:BENCH", session=RecordingSession(record=False))
        router = Router()

        @router.message()
        async def echo(message: Message) -> None:
            await message.answer(message.text or "")

        self.dp = Dispatcher()
        self.dp.include_router(router)

    def updates(self, count: int) -> list[object]:
        return [message_update(10_000 + i % PATIENTS, "Запись к врачу", bot=self.bot) for i in range(count)]

    async def feed(self, updates: list[object]) -> float:
        """Seconds to feed ``updates``, ``CONCURRENCY`` at a time."""
        start = time.perf_counter()
        for i in range(0, len(updates), CONCURRENCY):
            await asyncio.gather(*(self.dp.feed_update(self.bot, u)  # type: ignore[arg-type]
                                   for u in updates[i:i + CONCURRENCY]))
        return time.perf_counter() - start


async def _bare() -> dict[str, float]:
    echo = _Echo()
    await echo.feed(echo.updates(WARMUP))
    updates = echo.updates(PATIENTS * STEPS)
    return {"updates_per_s": len(updates) / await echo.feed(updates), "peak_mib": _peak_mib()}


async def _bot(backend: str, mode: str = "alone") -> dict[str, float]:
    from bench.common import database

    async with database(backend) as db:
        return await _conversations(db, mode)


async def _conversations(db: Database, mode: str) -> dict[str, float]:
    from bot.config import Settings
    from bot.container import build_container
    from bot.dispatcher import build_dispatcher
    from bot.heap import freeze_startup_objects
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
                                       + (datetime(2000, 1, 3) - datetime(2000, 1, 1)),
                                       (WARMUP + PATIENTS) // 10 + 1, status=SlotStatus.FREE)
    people = [await factories.account(db, 10_000 + i, now) for i in range(WARMUP + PATIENTS)]
    settings = Settings(bot_token="123456:BENCH", consent_policy_version=factories.CONSENT)
    container = build_container(settings, db, SystemClock())
    dp = build_dispatcher(container)
    freeze_startup_objects()  # as the bot process does once it has started (bot.app)
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
    conversations = [conversation(i) for i in range(WARMUP + PATIENTS)]

    async def patient(i: int) -> None:
        for update in conversations[i]:
            await dp.feed_update(bot, update)  # type: ignore[arg-type]

    async def booked() -> float:
        async with db.read() as uow:
            count = await uow.session.scalar(select(func.count()).select_from(Appointment))
        return float((count or 0) - WARMUP)

    await asyncio.gather(*(patient(i) for i in range(WARMUP)))
    # The timed patients, CONCURRENCY at a time.
    rounds = [range(i, i + CONCURRENCY) for i in range(WARMUP, WARMUP + PATIENTS, CONCURRENCY)]
    if mode == "steps":
        return await _steps(rounds, lambda j, step: dp.feed_update(bot, conversations[j][step]))  # type: ignore[arg-type]
    if mode == "paired":
        return await _paired(rounds, patient, booked)
    start = time.perf_counter()
    for batch in rounds:
        await asyncio.gather(*(patient(j) for j in batch))
    elapsed = time.perf_counter() - start
    return {"updates_per_s": PATIENTS * STEPS / elapsed, "peak_mib": _peak_mib(), "booked": await booked()}


async def _steps(rounds: list[range], feed: Callable[[int, int], Awaitable[object]]) -> dict[str, float]:
    """Every patient takes step k before anyone takes step k + 1: what each step costs on its own,
    each batch of thirty beside thirty of the echo's updates in the same process, in turn (see
    ``_paired``)."""
    echo, updates = await _frozen_echo()
    echo_updates = iter(updates)
    result: dict[str, float] = {}
    for step in range(STEPS):
        bot_seconds = echo_seconds = 0.0
        for n, batch in enumerate(rounds):
            mine = [next(echo_updates) for _ in batch]
            if n % 2:
                echo_seconds += await echo.feed(mine)
            start = time.perf_counter()
            await asyncio.gather(*(feed(j, step) for j in batch))
            bot_seconds += time.perf_counter() - start
            if not n % 2:
                echo_seconds += await echo.feed(mine)
        result[f"step{step}"] = PATIENTS / bot_seconds
        result[f"bare{step}"] = PATIENTS / echo_seconds
    return result


async def _frozen_echo() -> tuple[_Echo, list[object]]:
    """The echo, warmed up beside the bot, and its updates (built before, as the bot's are); then
    both heaps are frozen.

    Both heaps as they stand are left out of the collector's full passes, as the bot leaves its
    start-up objects out: otherwise the echo, sharing the process, would pay for walking the bot's
    objects whenever a full pass fell in one of its batches (about one a run, 8 % of the echo's
    time; frozen, the echo's collections cost what they do in a process of its own). What the bot
    keeps from its timed batches is still walked, in whichever batch a full pass falls."""
    echo = _Echo()
    await echo.feed(echo.updates(WARMUP))
    updates = echo.updates(PATIENTS * STEPS)
    gc.collect()
    gc.freeze()
    return echo, updates


async def _paired(rounds: list[range], patient: Callable[[int], Awaitable[None]],
                  booked: Callable[[], Awaitable[float]]) -> dict[str, float]:
    """The bot and the baseline in one process, a batch of each in turn (which goes first alternates):
    a neighbour's burst on this shared machine falls on both alike, where separate runs seconds
    apart each catch their own. The updates are those of the separate runs: the bot's patients,
    thirty at a time, each through the whole conversation; the echo, as many updates, thirty at a
    time. Unlike them, both run after the same warm-up with their heaps frozen (``_frozen_echo``)."""
    echo, echo_updates = await _frozen_echo()
    per_batch = CONCURRENCY * STEPS
    bot_seconds = echo_seconds = 0.0
    for n, batch in enumerate(rounds):
        mine = echo_updates[n * per_batch:(n + 1) * per_batch]
        if n % 2:
            echo_seconds += await echo.feed(mine)
        start = time.perf_counter()
        await asyncio.gather(*(patient(j) for j in batch))
        bot_seconds += time.perf_counter() - start
        if not n % 2:
            echo_seconds += await echo.feed(mine)
    return {"updates_per_s": PATIENTS * STEPS / bot_seconds, "bare_updates_per_s": len(echo_updates) / echo_seconds,
            "booked": await booked()}


def _child(variant: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-m", "bench.throughput", variant], capture_output=True, text=True,
                         check=True, timeout=600)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _best(variant: str, bare: list[dict[str, float]]) -> dict[str, float]:
    """Best of ``ROUNDS`` runs, each right after a run of the baseline: this machine is shared, and
    a neighbour's burst should not decide either figure."""
    runs = []
    for _ in range(ROUNDS):
        bare.append(_child("bare"))
        runs.append(_child(variant))
    return max(runs, key=lambda r: r["updates_per_s"])


def run(backends: tuple[str, ...] = ("sqlite",)) -> list[str]:
    bare_runs: list[dict[str, float]] = []
    bots = {backend: _best(backend, bare_runs) for backend in backends}
    bare = max(bare_runs, key=lambda r: r["updates_per_s"])
    lines = []
    for backend, bot in bots.items():
        lines.append(figure(f"throughput: booking conversation ({PATIENTS} patients × {STEPS} updates, {backend}, "
                            f"best of {ROUNDS})", bot["updates_per_s"], "updates/s", "bare aiogram echo",
                            bare["updates_per_s"]) + f" — {int(bot['booked'])} of {PATIENTS} booked")
        lines.append(figure(f"peak memory of the bot process ({backend})", bot["peak_mib"], "MiB",
                            "bare aiogram echo", bare["peak_mib"]))
    # The same runs, the baseline in the bot's process, batches taking turns; the median run of three.
    paired = sorted((_child("sqlite-paired") for _ in range(ROUNDS)),
                    key=lambda r: r["updates_per_s"] / r["bare_updates_per_s"])[ROUNDS // 2]
    lines.append(figure(f"throughput, baseline in the same process, batches in turn ({PATIENTS} patients × {STEPS} "
                        f"updates, sqlite, median of {ROUNDS})", paired["updates_per_s"], "updates/s",
                        "bare aiogram echo, the same process", paired["bare_updates_per_s"])
                 + f" — {int(paired['booked'])} of {PATIENTS} booked")
    steps = _child("sqlite-steps")
    for k, name in enumerate(STEP_NAMES):
        lines.append(figure(f"  step {k + 1}, {name} (sqlite, baseline in the same process, one run)",
                            steps[f"step{k}"],
                            "updates/s", "bare aiogram echo, the same process", steps[f"bare{k}"]))
    return lines


if __name__ == "__main__":
    variant = sys.argv[1]
    if variant == "bare":
        result = asyncio.run(_bare())
    else:
        backend, _, mode = variant.partition("-")
        result = asyncio.run(_bot(backend, mode or "alone"))
    print(json.dumps(result))
