"""``python -m bench.cluster``: the rush against 1 and 2 webhook instances on PostgreSQL and Redis, and
an offer fan-out across 2 instances (issue 16).

Rush: 300 logged-in patients arrive evenly within 5 s and walk the six booking steps, each aiming
at a time of its own, through the fake Telegram delivering by webhook round-robin. Printed: each
step's p50/p95, updates/s, and the CPU seconds each process used during the rush — the bot
instances, the PostgreSQL backends serving them, Redis, and this process (the fake Telegram and
the patients) — beside what the machine's cores had, so the reader sees what saturates it.

Fan-out: a doctor's 100 booked times are cancelled at the clinic with 100 patients queued; the
offers go out from whichever instance leads: the most messages in any second (≤ 30) and to any
one chat (≤ 1), and copies sent twice.

Needs TEST_POSTGRES_URL and TEST_REDIS_URL (as the cluster e2e tests).
"""

from __future__ import annotations

import asyncio
import math
import os
import resource
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import redis.asyncio as aioredis
from sqlalchemy.engine import make_url

from bench.cluster_rush import STEPS, Walk, booked_twice, free_times, walk
from core.access import AccessService
from core.booking import BookingService
from core.clock import SystemClock
from core.identity import Staff
from storage.db import Database
from tests import factories
from tests.e2e import cluster as harness
from tests.e2e.cluster import BotInstance, database_from, queue_scene, redis_database
from tests.fake_telegram.server import FakeTelegramServer

PATIENTS, WINDOW, WARMUP = 300, 5.0, 10
FIRST_ID = 70_000
FAN_OUT = 100
OFFER = "Предлагаем время для записи на приём"
TICKS = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1


def _cpu_of(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads); 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def _machine() -> tuple[float, float]:
    """(busy, all) CPU seconds of every core since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / TICKS, sum(values[:8]) / TICKS


async def _backends(database_url: str) -> list[int]:
    """PostgreSQL's server processes connected to this database (the instances' pools)."""
    url = make_url(database_url)
    conn = await asyncpg.connect(url.set(drivername="postgresql", database="postgres")
                                 .render_as_string(hide_password=False))
    try:
        rows = await conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", url.database)
    finally:
        await conn.close()
    return [int(row["pid"]) for row in rows]


async def _redis_pid(redis_url: str) -> int | None:
    client = aioredis.from_url(redis_url)
    try:
        info = await client.info("server")
    finally:
        await client.aclose()
    return int(info.get("process_id", 0)) or None  # on this machine; _cpu_of reads 0 when it is not


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class CpuSample:
    instances: list[float]
    postgres: float
    redis: float
    driver: float
    machine_busy: float
    machine_all: float

    def __sub__(self, other: CpuSample) -> CpuSample:
        return CpuSample([a - b for a, b in zip(self.instances, other.instances, strict=True)],
                         self.postgres - other.postgres, self.redis - other.redis, self.driver - other.driver,
                         self.machine_busy - other.machine_busy, self.machine_all - other.machine_all)


async def _sample(instances: list[BotInstance], backends: list[int], redis_pid: int | None) -> CpuSample:
    busy, total = _machine()
    return CpuSample([_cpu_of(i.proc.pid) for i in instances if i.proc is not None],
                     sum(_cpu_of(pid) for pid in backends), _cpu_of(redis_pid) if redis_pid else math.nan,
                     _self_cpu(), busy, total)


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(math.ceil(q * len(ordered)) - 1, 0)] * 1e3 if ordered else math.nan


@dataclass
class RushResult:
    size: int
    walks: list[Walk]
    seconds: float
    cpu: CpuSample
    doubled: int

    def lines(self) -> list[str]:
        updates = sum(len(w.latencies) for w in self.walks)
        out = [f"rush, {self.size} instance(s): {updates} updates in {self.seconds:.1f} s = "
               f"{updates / self.seconds:.0f} updates/s; {sum(w.booked for w in self.walks)} of {PATIENTS} booked, "
               f"{self.doubled} times booked twice, {sum(bool(w.error) for w in self.walks)} walks failed"]
        for step, name in [*enumerate(STEPS), (None, "every step")]:
            samples = [s for w in self.walks for n, s in enumerate(w.latencies) if step in (None, n)]
            out.append(f"  {name:<18} p50 {_pct(samples, 0.5):7.1f} ms   p95 {_pct(samples, 0.95):7.1f} ms")
        cpu, wall = self.cpu, self.seconds
        shares = [(f"bot instance {n + 1}", s) for n, s in enumerate(cpu.instances)] + [
            ("PostgreSQL backends", cpu.postgres), ("Redis", cpu.redis),
            ("fake Telegram + patients (this process)", cpu.driver)]
        out.append(f"  CPU seconds during the rush ({wall:.1f} s wall, {CORES} cores = {wall * CORES:.1f} core-s):")
        out += [f"    {name:<40} {seconds:6.2f} s = {seconds / wall:4.0%} of a core" for name, seconds in shares]
        busy = cpu.machine_busy / cpu.machine_all if cpu.machine_all else math.nan
        other = cpu.machine_busy - sum(s for _, s in shares if not math.isnan(s))
        out.append(f"    the machine's cores busy {busy:.0%}; other processes (neighbours) {other:6.2f} s")
        first_error = next((w.error for w in self.walks if w.error), "")
        if first_error:
            out.append(f"  first failure: {first_error[:400]}")
        return out


async def rush(template: str, folder: Path, size: int) -> RushResult:
    async with database_from(template) as url, redis_database() as redis_url, \
            FakeTelegramServer(webhook_timeout=10.0, webhook_retry_delay=0.5) as api:
        db = Database(url)
        try:
            now = SystemClock().now()
            for telegram_id in range(FIRST_ID, FIRST_ID + WARMUP + PATIENTS):
                await factories.account(db, telegram_id, now)
            plans = await free_times(db, WARMUP + PATIENTS)
            users = [api.user(FIRST_ID + i, f"Пациент {i}") for i in range(WARMUP + PATIENTS)]
            instances = [BotInstance(api, folder, f"rush{size}-bot-{n + 1}", url, redis_url,
                                     {"LOG_LEVEL": "WARNING"}) for n in range(size)]
            try:
                for instance in instances:
                    await instance.start()
                api.webhook_targets = [instance.webhook_url for instance in instances]
                start = time.monotonic()
                await asyncio.gather(*(walk(users[i], plans[i], start + 0.1 * i) for i in range(WARMUP)))
                backends, redis_pid = await _backends(url), await _redis_pid(redis_url)
                before = await _sample(instances, backends, redis_pid)
                first = time.monotonic() + 0.05
                walks = list(await asyncio.gather(*(
                    walk(users[WARMUP + i], plans[WARMUP + i], first + i * WINDOW / PATIENTS)
                    for i in range(PATIENTS))))
                last = max((w.finished for w in walks if w.finished), default=time.monotonic())
                cpu = await _sample(instances, backends, redis_pid) - before
            finally:
                await asyncio.gather(*(instance.stop() for instance in instances))
            return RushResult(size, walks, last - first, cpu, await booked_twice(db))
        finally:
            await db.dispose()


async def fan_out(template: str, folder: Path) -> list[str]:
    async with database_from(template) as url, redis_database() as redis_url, FakeTelegramServer() as api:
        db = Database(url)
        instances = [BotInstance(api, folder, f"fanout-bot-{n + 1}", url, redis_url, {"LOG_LEVEL": "WARNING"})
                     for n in range(2)]
        try:
            appointments, booker_id = await queue_scene(db, FAN_OUT)
            users = [api.user(60_000 + i, f"Пациент {i}") for i in range(FAN_OUT)]
            for instance in instances:
                await instance.start()
            api.webhook_targets = [instance.webhook_url for instance in instances]
            clinic = BookingService(db, SystemClock())
            identity = await AccessService(db, SystemClock(), Staff(), factories.CONSENT).identify(booker_id, booker_id)
            started = time.monotonic()
            for appointment_id in appointments:
                await clinic.cancel(identity, appointment_id)
            deadline = started + 120
            while sum(any(OFFER in m.text for m in u.all_messages) for u in users) < FAN_OUT:
                if time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.1)
            spent = time.monotonic() - started
            await asyncio.sleep(2.0)  # a second copy would come now
            leaders = [i.name for i in instances if await i.is_leader()]
        finally:
            await asyncio.gather(*(instance.stop() for instance in instances))
            await db.dispose()
    copies = Counter(sum(OFFER in m.text for m in u.all_messages) for u in users)
    offered = FAN_OUT - copies.get(0, 0)
    stats = api.send_rate(window=1.0)
    verdict = "OK" if stats.overall <= 30 and stats.max_per_chat <= 1 and copies == Counter({1: FAN_OUT}) else "FAIL"
    return [f"offer fan-out over 2 instances (leader: {', '.join(leaders) or 'none'}): {offered} of {FAN_OUT} "
            f"queued patients offered in {spent:.1f} s; copies per patient {dict(sorted(copies.items()))}; "
            f"most messages in any 1 s: {stats.overall} (≤ 30), to one chat: {stats.max_per_chat} (≤ 1) — {verdict}"]


async def main() -> None:
    if not (harness.POSTGRES_URL and harness.REDIS_URL):
        sys.exit("set TEST_POSTGRES_URL and TEST_REDIS_URL")
    template = await asyncio.to_thread(harness.make_template)
    try:
        with tempfile.TemporaryDirectory() as folder:
            for size in (1, 2):
                for line in (await rush(template, Path(folder), size)).lines():
                    print(line, flush=True)
            for line in await fan_out(template, Path(folder)):
                print(line, flush=True)
    finally:
        await asyncio.to_thread(harness.drop_template, template)


if __name__ == "__main__":
    asyncio.run(main())
