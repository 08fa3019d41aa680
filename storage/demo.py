"""Demo clinic data: two organizations, six specialties, a dozen doctors, 14 days of slots.

Loading is idempotent: rows are matched by external ids, so a second run only adds the days
that have come into the window since the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.enums import AppointmentSource, AppointmentStatus, SlotStatus
from storage.db import Database
from storage.models import Appointment, Doctor, Organization, Slot, Specialty


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
    """Insert what is missing; returns the number of slots added."""
    added = 0
    async with db.write() as uow:
        orgs: dict[str, Organization] = {}
        for spec in ORGS:
            org = await uow.clinic.organization_by_external(spec.external_id)
            if org is None:
                org = Organization(external_id=spec.external_id, name=spec.name, address=spec.address,
                                   phone=spec.phone, timezone=spec.timezone,
                                   waitlist_enabled=spec.waitlist_enabled)
                await uow.clinic.add(org)
            orgs[spec.external_id] = org
        specialties: dict[str, Specialty] = {}
        for code, name in SPECIALTIES:
            specialty = await uow.clinic.specialty_by_code(code)
            if specialty is None:
                specialty = Specialty(code=code, name=name)
                await uow.clinic.add(specialty)
            specialties[code] = specialty
        for external_id, name, org_id, specialty_code, cabinet in DOCTORS:
            doctor = await uow.clinic.doctor_by_external(external_id)
            if doctor is None:
                doctor = Doctor(external_id=external_id, full_name=name, organization_id=orgs[org_id].id,
                                specialty_id=specialties[specialty_code].id, cabinet=cabinet, active=True)
                await uow.clinic.add(doctor)
            zone = ZoneInfo(orgs[org_id].timezone)
            today = now.astimezone(zone).date()
            known = {s.external_id for s in await uow.slots.day(
                doctor.id, now - timedelta(days=1), now + timedelta(days=DAYS + 1))}
            for day in _workdays(today, DAYS):
                for start_time in DAY_TIMES:
                    slot_id = f"{external_id}-{day:%Y%m%d}-{start_time:%H%M}"
                    starts = datetime.combine(day, start_time, zone)
                    if slot_id in known or starts <= now:
                        continue
                    booked = external_id in FULLY_BOOKED
                    slot = await uow.slots.add(Slot(
                        external_id=slot_id, doctor_id=doctor.id, starts_at=starts,
                        ends_at=starts + SLOT_LENGTH, status=SlotStatus.BOOKED if booked else SlotStatus.FREE,
                    ))
                    if booked:
                        # Taken at the registry by people who are not in the bot.
                        await uow.appointments.add(Appointment(
                            slot_id=slot.id, doctor_id=doctor.id, starts_at=starts,
                            source=AppointmentSource.REGISTRY, status=AppointmentStatus.ACTIVE,
                            patient_oms=f"9{slot.id:015d}", created_at=now, external_id=f"appt-{slot_id}",
                        ))
                    added += 1
        await uow.commit()
    return added
