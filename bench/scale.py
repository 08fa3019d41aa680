"""Scale: 1,000 doctors and 1,000,000 slots — a doctor's free dates and a day's times must stay
within 2× of the same queries with 10 doctors (the index, not a scan)."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import insert

from bench.common import T0, Outcome, database, figure, services, timed
from core.clock import FixedClock
from core.enums import SlotStatus
from storage.db import Database
from storage.models import Slot
from tests import factories

SLOTS_PER_DOCTOR = 1_000  # 1,000 doctors → 1,000,000 slots
REPEAT = 200
LIMIT = 2.0


async def fill(db: Database, doctors: int) -> list[int]:
    _, rows = await factories.clinic(db, doctors=doctors)
    rng = random.Random(7)
    step = timedelta(minutes=30)
    batch: list[dict[str, object]] = []
    async with db.write() as uow:
        for doctor in rows:
            # Spread over 60 days back and forth, as a real schedule table grows: most rows are
            # outside the 14-day window the bot asks about.
            first = T0 - timedelta(days=30)
            for i in range(SLOTS_PER_DOCTOR):
                starts = first + (i // 16) * timedelta(days=1) + (i % 16) * step
                batch.append({"doctor_id": doctor.id, "starts_at": starts, "ends_at": starts + step,
                              "status": SlotStatus.FREE if rng.random() < 0.6 else SlotStatus.BOOKED})
                if len(batch) == 20_000:
                    await uow.session.execute(insert(Slot), batch)
                    batch.clear()
        if batch:
            await uow.session.execute(insert(Slot), batch)
        await uow.commit()
    return [d.id for d in rows]


async def measure(doctors: int) -> tuple[float, float]:
    async with database() as db:
        ids = await fill(db, doctors)
        schedule = services(db, FixedClock(T0)).schedule
        rng = random.Random(1)

        async def dates() -> None:
            await schedule.free_dates(rng.choice(ids))

        async def times() -> None:
            await schedule.free_times(rng.choice(ids), (T0 + timedelta(days=3)).date())

        return await timed(dates, REPEAT), await timed(times, REPEAT)


async def run() -> Outcome:
    small_dates, small_times = await measure(10)
    big_dates, big_times = await measure(1_000)
    ratios = (big_dates / small_dates, big_times / small_times)
    ok = max(ratios) <= LIMIT
    return Outcome([
        figure("scale: free dates, 1,000 doctors / 1M slots", big_dates * 1e3, "ms",
               "10 doctors / 10k slots", small_dates * 1e3),
        figure("scale: a day's times, 1,000 doctors / 1M slots", big_times * 1e3, "ms",
               "10 doctors / 10k slots", small_times * 1e3),
    ], f"scale: 1M slots vs 10k, ×{ratios[0]:.2f} (dates) and ×{ratios[1]:.2f} (times), limit ×{LIMIT:.0f} — "
       f"{'OK' if ok else 'FAIL'}", ok)
