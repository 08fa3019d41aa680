"""Demo clinic data: two organizations, six specialties, a dozen doctors, 14 days of slots.

The tables below feed ``core.fhir.demo_bundle``, which turns them into a FHIR bundle; loading
imports that bundle (R27), so it is idempotent: rows are matched by external ids, and a second
run only adds the days that have come into the window since the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from storage.db import Database


@dataclass(frozen=True)
class DemoOrg:
    external_id: str
    name: str
    address: str
    phone: str
    timezone: str
    waitlist_enabled: bool


ORGS = (
    DemoOrg("demo-gp1", "ГБУЗ «Городская поликлиника № 1»", "г. Энск, ул. Ленина, д. 10",
            "+7 (800) 100-10-01", "Europe/Moscow", True),
    DemoOrg("demo-crb", "ГБУЗ «Центральная районная больница»", "пгт Заречный, ул. Садовая, д. 3",
            "+7 (800) 100-20-02", "Asia/Yekaterinburg", False),
)

SPECIALTIES = (
    ("therapist", "Терапевт"),
    ("pediatrician", "Педиатр"),
    ("surgeon", "Хирург"),
    ("ophthalmologist", "Офтальмолог"),
    ("neurologist", "Невролог"),
    ("otolaryngologist", "Оториноларинголог"),
)

# (external id, name, organization, specialty, cabinet)
DOCTORS = (
    ("demo-doc-01", "Иванова Мария Петровна", "demo-gp1", "therapist", "101"),
    ("demo-doc-02", "Смирнов Алексей Игоревич", "demo-gp1", "therapist", "102"),
    ("demo-doc-03", "Кузнецова Елена Викторовна", "demo-gp1", "pediatrician", "201"),
    ("demo-doc-04", "Попов Дмитрий Сергеевич", "demo-gp1", "surgeon", "305"),
    ("demo-doc-05", "Васильева Ольга Николаевна", "demo-gp1", "ophthalmologist", "214"),
    ("demo-doc-06", "Соколов Игорь Андреевич", "demo-gp1", "neurologist", "310"),
    ("demo-doc-07", "Михайлова Анна Олеговна", "demo-gp1", "otolaryngologist", "112"),
    ("demo-doc-08", "Новиков Павел Юрьевич", "demo-crb", "therapist", "7"),
    ("demo-doc-09", "Федорова Татьяна Ивановна", "demo-crb", "pediatrician", "12"),
    ("demo-doc-10", "Морозов Сергей Петрович", "demo-crb", "surgeon", "15"),
    ("demo-doc-11", "Волкова Ирина Михайловна", "demo-crb", "ophthalmologist", "9"),
    ("demo-doc-12", "Алексеев Николай Васильевич", "demo-crb", "neurologist", "21"),
)

FULLY_BOOKED = {"demo-doc-05"}  # the ophthalmologist of the polyclinic: a waitlist to try
DAY_TIMES = tuple(time(9 + (30 * i) // 60, (30 * i) % 60) for i in range(8))  # 09:00 … 12:30
SLOT_LENGTH = timedelta(minutes=30)
DAYS = 14


def _workdays(start: date, days: int) -> list[date]:
    return [start + timedelta(days=i) for i in range(days) if (start + timedelta(days=i)).weekday() < 5]


async def load_demo(db: Database, now: datetime) -> int:
    """Import the demo bundle (``core.fhir.demo_bundle``) like any clinic's; returns the number of slots added.

    The same path as ``python -m bot import-fhir``: matched by external ids, so a second run
    changes nothing but the days that have come into the window since the first.
    """
    from core.fhir import import_bundle  # core.fhir.demo_bundle reads this module's tables
    from core.fhir.demo_bundle import build_demo_bundle

    report = await import_bundle(db, build_demo_bundle(now), now)
    return report.slots.created
