"""The rush: what patients feel when many come at once.

200 logged-in patients arrive evenly within 5 s; each walks the six booking steps («Запись к врачу»
→ specialty → doctor → date → time → «Подтвердить») as fast as the answers come, and 20 pairs aim
at the same time. They talk to the real bot process (``python -m bot``) over HTTP through the fake
Bot API of the tests; at the same moments as many other patients, arriving alike, talk to a bare
aiogram bot making the same Bot API calls per update without a database (``bench.bare_bot``), so
that the machine's other work holds both up alike. Printed side by side (``bench.rush_report``):
each step's latency, updates/s and CPU time per update; the floor is the bot's p95 within 2× the
bare bot's, and every race exact in the database (each contested time booked once).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from bench.child import Child
from bench.common import Outcome
from bench.patients import Plan, walk
from bench.rush_db import booked_per_time, bot_database, patients
from bench.rush_report import Races, Rush, report
from bot.config import Settings
from tests import factories
from tests.e2e.harness import free_port
from tests.fake_telegram.server import FakeTelegramServer

PATIENTS, WINDOW, PAIRS = 200, 5.0, 20
PAIR_EVERY = PATIENTS // PAIRS  # pair k arrives at places 10k and 10k + 1
WARMUP = 10  # patients who walk through first, unmeasured: imports, connections, caches
FIRST_ID = 70_000
ROUNDS = 2
# Updates the bot works on at once; the bare bot gets the same.
CONCURRENT_UPDATES = Settings.model_fields["concurrent_updates"].default


def _arrivals(start: float) -> list[float]:
    """Evenly within the window; the two of a pair at the same moment, so that they race."""
    pairs = {b: a for a, b in contested()}
    return [start + pairs.get(i, i) * WINDOW / PATIENTS for i in range(PATIENTS)]


def _paired(targets: list[Plan]) -> list[Plan]:
    """A plan for each place in the arrival order: the second of each pair aims where the first does."""
    first_of = {b: a for a, b in contested()}
    plans: list[Plan] = []
    spare = iter(targets)
    for place in range(PATIENTS):
        plans.append(plans[first_of[place]] if place in first_of else next(spare))
    return plans


def contested() -> list[tuple[int, int]]:
    """The places in the arrival order of each pair aiming at one time."""
    return [(k * PAIR_EVERY, k * PAIR_EVERY + 1) for k in range(PAIRS)]


async def _rush(api: FakeTelegramServer, child: Child, warmup: list[Plan], plans: list[Plan],
                go: asyncio.Barrier) -> Rush:
    """Warm the bot up, wait at ``go`` for the other bot, then let the patients come."""
    users = [api.user(FIRST_ID + i, f"Пациент {i}") for i in range(WARMUP + PATIENTS)]
    await child.start()
    try:
        now = time.monotonic()
        warm = await asyncio.gather(*(walk(users[i], warmup[i], now + 0.1 * i) for i in range(WARMUP)))
        await go.wait()
        await asyncio.sleep(0.5)
        cpu, waited = child.cpu_seconds(), child.waited_seconds()
        arrivals = _arrivals(time.monotonic() + 0.05)
        walks = list(await asyncio.gather(*(walk(users[WARMUP + i], plans[i], arrivals[i])
                                            for i in range(PATIENTS))))
        cpu, waited = child.cpu_seconds() - cpu, child.waited_seconds() - waited
    finally:
        await child.stop()
    return Rush(walks, cpu, waited, [f"warm-up: {w.error}" for w in warm if w.error], arrivals[0])


async def bare_rush(folder: Path, go: asyncio.Barrier) -> Rush:
    async with FakeTelegramServer() as api:
        child = Child(api, "bench.bare_bot", {"CONCURRENT_UPDATES": str(CONCURRENT_UPDATES)}, folder / "bare.log")
        return await _rush(api, child, [Plan()] * WARMUP, [Plan()] * PATIENTS, go)


async def bot_rush(folder: Path, postgres_url: str | None, go: asyncio.Barrier
                   ) -> tuple[Rush, list[Plan], dict[int, int]]:
    async with bot_database(folder, postgres_url) as url:
        targets = await patients(url, range(FIRST_ID, FIRST_ID + WARMUP + PATIENTS), WARMUP + PATIENTS - PAIRS)
        warmup, plans = targets[:WARMUP], _paired(targets[WARMUP:])
        async with FakeTelegramServer() as api:
            port = free_port()
            child = Child(api, "bot", {
                "DATABASE_URL": url, "DEMO_DATA": "false", "CONSENT_POLICY_VERSION": factories.CONSENT,
                "WEB_HOST": "127.0.0.1", "WEB_PORT": str(port), "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            }, folder / "bot.log")
            rush = await _rush(api, child, warmup, plans, go)
        return rush, plans, await booked_per_time(url, plans)


async def run(postgres_url: str | None = None, rounds: int = ROUNDS, *, apart: bool = False) -> Outcome:
    """``rounds`` of the rush. The bare bot and the bot each get their own patients at the same
    moments, so that the machine's other work holds both up alike; ``apart``: one after the other."""
    bots, bares, races = [], [], []
    with tempfile.TemporaryDirectory() as folder:
        for number in range(rounds):
            round_folder = Path(folder) / str(number)
            round_folder.mkdir()
            if apart:
                bare = await bare_rush(round_folder, asyncio.Barrier(1))
                bot, plans, stored = await bot_rush(round_folder, postgres_url, asyncio.Barrier(1))
            else:
                go = asyncio.Barrier(2)
                async with asyncio.TaskGroup() as both:  # if one fails, the other stops waiting for it
                    bare_task = both.create_task(bare_rush(round_folder, go))
                    bot_task = both.create_task(bot_rush(round_folder, postgres_url, go))
                bare, (bot, plans, stored) = bare_task.result(), bot_task.result()
            bares.append(bare)
            bots.append(bot)
            races.append(Races.of(bot, contested(), plans, stored))
    title = (f"{PATIENTS} patients arriving evenly within {WINDOW:.0f} s, six steps each, {PAIRS} pairs aiming at "
             f"the same time; {rounds} round(s), the bot and the bare bot "
             + ("one after the other" if apart else "at the same moments"))
    return report(title, "postgres" if postgres_url else "sqlite", bots, bares, races)
