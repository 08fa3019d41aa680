"""The demo clinic data as a FHIR bundle, so the demo loads exactly like a clinic's export (R27).

Two organizations (one with waitlists, one without), six specialties, twelve doctors, 14 days
of weekday slots from "today" in each organization's time zone, and one doctor fully booked by
registry appointments. Loading imports the bundle, so it is idempotent: rows are matched by
external ids, and a second run only adds the days that have come into the window since the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core.fhir.apply import import_bundle
from core.fhir.model import (
    EXT_CABINET,
    EXT_SOURCE,
    EXT_TIMEZONE,
    EXT_WAITLIST,
    SID_OMS,
    SPECIALTY_SYSTEM,
)
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


def workdays(start: date, days: int) -> list[date]:
    return [start + timedelta(days=i) for i in range(days) if (start + timedelta(days=i)).weekday() < 5]


def _entry(resource: dict[str, Any]) -> dict[str, Any]:
    return {"resource": resource}


def _organization(org: DemoOrg) -> dict[str, Any]:
    return {
        "resourceType": "Organization", "id": org.external_id, "name": org.name,
        "address": [{"text": org.address}],
        "telecom": [{"system": "phone", "value": org.phone}],
        "extension": [
            {"url": EXT_TIMEZONE, "valueString": org.timezone},
            {"url": EXT_WAITLIST, "valueBoolean": org.waitlist_enabled},
        ],
    }


def build_demo_bundle(now: datetime) -> dict[str, Any]:
    """The demo bundle for the day of ``now``: slots that start after ``now``, in each clinic's zone."""
    specialty_names = dict(SPECIALTIES)
    zones = {org.external_id: ZoneInfo(org.timezone) for org in ORGS}
    entries = [_entry(_organization(org)) for org in ORGS]
    slots: list[dict[str, Any]] = []
    appointments: list[dict[str, Any]] = []
    for number, (role_id, name, org_id, specialty, cabinet) in enumerate(DOCTORS, start=1):
        family, given, *middle = name.split()
        practitioner_id = f"demo-pr-{number:02d}"
        schedule_id = f"demo-sch-{number:02d}"
        entries.append(_entry({
            "resourceType": "Practitioner", "id": practitioner_id,
            "name": [{"use": "official", "family": family, "given": [given, *middle]}],
        }))
        entries.append(_entry({
            "resourceType": "PractitionerRole", "id": role_id, "active": True,
            "practitioner": {"reference": f"Practitioner/{practitioner_id}"},
            "organization": {"reference": f"Organization/{org_id}"},
            "specialty": [{"coding": [{"system": SPECIALTY_SYSTEM, "code": specialty,
                                       "display": specialty_names[specialty]}]}],
            "extension": [{"url": EXT_CABINET, "valueString": cabinet}],
        }))
        entries.append(_entry({
            "resourceType": "Schedule", "id": schedule_id, "active": True,
            "actor": [{"reference": f"PractitionerRole/{role_id}"}],
        }))
        zone = zones[org_id]
        booked = role_id in FULLY_BOOKED
        for day in workdays(now.astimezone(zone).date(), DAYS):
            for start_time in DAY_TIMES:
                starts = datetime.combine(day, start_time, zone)
                if starts <= now:
                    continue
                slot_id = f"{role_id}-{day:%Y%m%d}-{start_time:%H%M}"
                slots.append(_entry({
                    "resourceType": "Slot", "id": slot_id,
                    "schedule": {"reference": f"Schedule/{schedule_id}"},
                    "status": "busy" if booked else "free",
                    "start": starts.isoformat(), "end": (starts + SLOT_LENGTH).isoformat(),
                }))
                if booked:
                    # Taken at the registry by people who are not in the bot.
                    oms = f"9{number:02d}{day:%Y%m%d}{start_time:%H%M}0"
                    appointments.append(_entry({
                        "resourceType": "Appointment", "id": f"appt-{slot_id}", "status": "booked",
                        "extension": [{"url": EXT_SOURCE, "valueCode": "registry"}],
                        "slot": [{"reference": f"Slot/{slot_id}"}],
                        "participant": [{
                            "actor": {"type": "Patient", "identifier": {"system": SID_OMS, "value": oms}},
                            "status": "accepted",
                        }],
                    }))
    return {"resourceType": "Bundle", "type": "collection", "entry": entries + slots + appointments}


async def load_demo(db: Database, now: datetime) -> int:
    """Import the demo bundle like any clinic's (``python -m bot import-fhir``); the slots added."""
    report = await import_bundle(db, build_demo_bundle(now), now)
    return report.slots.created
