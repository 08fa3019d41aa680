"""Queue depth: picking the patient for a freed slot with 1,000 vs 100,000 queued entries."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import insert

from bench.common import T0, Outcome, database, figure, timed
from core.enums import WaitlistStatus
from storage.models import WaitlistEntry
from tests import factories

REPEAT = 300


async def measure(entries: int) -> float:
    async with database() as db:
        org, doctors = await factories.clinic(db, doctors=50)
        identity, (patient,) = await factories.account(db, 1, T0)
        assert identity.account_id is not None
        rng = random.Random(3)
        rows = [{
            "patient_id": patient.id, "account_id": identity.account_id, "organization_id": org.id,
            "specialty_id": doctors[0].specialty_id,
            "doctor_id": rng.choice(doctors).id if rng.random() < 0.8 else None,
            "status": WaitlistStatus.WAITING, "offers_used": 0, "queued_at": T0 + timedelta(seconds=i),
        } for i in range(entries)]
        async with db.write() as uow:
            for start in range(0, len(rows), 20_000):
                await uow.session.execute(insert(WaitlistEntry), rows[start:start + 20_000])
            await uow.commit()
        slot_doctor = doctors[-1]

        async def pick() -> None:
            async with db.read() as uow:
                entry = await uow.waitlist.first_for_slot(10**9, slot_doctor.id, org.id, slot_doctor.specialty_id)
                assert entry is not None

        return await timed(pick, REPEAT)


LIMIT = 2.0


async def run() -> Outcome:
    small = await measure(1_000)
    big = await measure(100_000)
    ok = big / small <= LIMIT
    return Outcome(
        [figure("queue depth: pick the patient, 100,000 queued", big * 1e3, "ms", "1,000 queued", small * 1e3)],
        f"queue depth: 100,000 queued vs 1,000, ×{big / small:.2f}, limit ×{LIMIT:.0f} — {'OK' if ok else 'FAIL'}", ok)
