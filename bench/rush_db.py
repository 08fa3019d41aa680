"""The rush's database: the demo clinics as ``python -m bot demo`` leaves them, logged-in patients,
the free times they aim at, and afterwards what was booked."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bench.patients import Plan
from core.enums import AppointmentStatus, SlotStatus
from storage.db import Database
from storage.models import Appointment, Doctor, Organization, Slot, Specialty
from tests import factories
from tests.e2e.harness import ROOT


@asynccontextmanager
async def bot_database(folder: Path, postgres_url: str | None) -> AsyncIterator[str]:
    """A database of its own with the demo clinics, as ``python -m bot demo`` leaves it; its URL."""
    if postgres_url is None:
        url = f"sqlite+aiosqlite:///{folder / 'bot.sqlite3'}"
        await _demo(url)
        yield url
        return
    name = f"bench_rush_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(postgres_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
        await _demo(url)
        yield url
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def _demo(url: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "demo", cwd=ROOT, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT, env={**os.environ, "BOT_TOKEN": "1:bench", "DATABASE_URL": url})
    output, _ = await proc.communicate()
    if proc.returncode:
        raise RuntimeError(f"python -m bot demo failed:\n{output.decode(errors='replace')}")


async def patients(url: str, telegram_ids: range, times: int) -> list[Plan]:
    """Log in a patient for each Telegram id, as the e2e tests do; ``times`` free times to aim at."""
    db = Database(url)
    try:
        now = datetime.now(UTC)
        for telegram_id in telegram_ids:
            await factories.account(db, telegram_id, now)
        return await _free_times(db, now, times)
    finally:
        await db.dispose()


async def _free_times(db: Database, now: datetime, count: int) -> list[Plan]:
    """Free times from tomorrow to a week ahead (all on the first page of dates), taken from each
    doctor in turn, so that neighbours in the rush aim at different doctors."""
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


async def booked_per_time(url: str, plans: list[Plan]) -> dict[int, int]:
    """Active appointments of each time aimed at, as the database has them after the rush."""
    db = Database(url)
    try:
        async with db.read() as uow:
            rows = await uow.session.execute(
                select(Appointment.slot_id, func.count()).where(
                    Appointment.status == AppointmentStatus.ACTIVE,
                    Appointment.slot_id.in_({p.slot_id for p in plans}))
                .group_by(Appointment.slot_id))
            return {int(slot_id): int(n) for slot_id, n in rows.all()}
    finally:
        await db.dispose()
