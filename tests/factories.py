"""Test data written straight to the database, as an earlier conversation would have left it."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from core.enums import AuthMethod, ModerationStatus, Sex, SlotStatus
from core.identity import Identity, Staff
from storage.db import Database
from storage.models import Account, Doctor, Organization, Patient, Slot, Specialty, TelegramUser

CONSENT = "test-1"
_seq = iter(range(1, 10_000_000))


async def account(db: Database, telegram_id: int, now: datetime, *, method: AuthMethod = AuthMethod.EMAIL,
                  people: int = 1, status: ModerationStatus = ModerationStatus.CONFIRMED,
                  oms: str | None = None, snils: str | None = None) -> tuple[Identity, list[Patient]]:
    """A logged-in Telegram user whose card file holds an owner and ``people - 1`` relatives."""
    n = next(_seq)
    async with db.write() as uow:
        acc = Account(auth_method=method, email=f"user{n}@example.test" if method == AuthMethod.EMAIL else None,
                      esia_subject=f"esia-{n}" if method == AuthMethod.ESIA else None,
                      consent_version=CONSENT, consent_at=now, created_at=now, last_login_at=now)
        uow.session.add(acc)
        await uow.flush()
        uow.session.add(TelegramUser(id=telegram_id, chat_id=telegram_id, account_id=acc.id,
                                     consent_version=CONSENT, consent_at=now, created_at=now))
        patients = []
        for i in range(people):
            patient = Patient(
                account_id=acc.id, is_owner=i == 0, last_name="Иванова", first_name=["Анна", "Мария", "Олег"][i % 3],
                middle_name=None, birth_date=date(1985 + i, 1, 1), sex=Sex.FEMALE,
                oms_policy=(oms if i == 0 and oms else f"{n:08d}{i:08d}"), snils=snils if i == 0 else None,
                phone=None, status=status, submitted_at=now,
            )
            uow.session.add(patient)
            patients.append(patient)
        await uow.flush()
        await uow.commit()
    return Identity(telegram_id, telegram_id, True, acc.id, method), patients


async def clinic(db: Database, *, timezone: str = "Europe/Moscow", waitlist: bool = True,
                 doctors: int = 1, specialty_code: str = "therapist") -> tuple[Organization, list[Doctor]]:
    n = next(_seq)
    async with db.write() as uow:
        org = Organization(external_id=f"org-{n}", name=f"Поликлиника {n}", address="ул. Ленина, 1",
                           phone="+7 800 000-00-00", timezone=timezone, waitlist_enabled=waitlist)
        uow.session.add(org)
        specialty = await uow.clinic.specialty_by_code(specialty_code)
        if specialty is None:
            specialty = Specialty(code=specialty_code, name="Терапевт")
            uow.session.add(specialty)
        await uow.flush()
        rows = [Doctor(external_id=f"doc-{n}-{i}", full_name=f"Врач {n}-{i}", organization_id=org.id,
                       specialty_id=specialty.id, cabinet=str(100 + i), active=True) for i in range(doctors)]
        uow.session.add_all(rows)
        await uow.flush()
        await uow.commit()
    return org, rows


async def slots(db: Database, doctor: Doctor, first: datetime, count: int, *,
                step: timedelta = timedelta(minutes=30), status: SlotStatus = SlotStatus.FREE) -> list[Slot]:
    async with db.write() as uow:
        rows = [Slot(doctor_id=doctor.id, starts_at=first + i * step, ends_at=first + i * step + step,
                     status=status) for i in range(count)]
        uow.session.add_all(rows)
        await uow.flush()
        await uow.commit()
    return rows


STAFF = Staff(moderators=frozenset({900}), operators=frozenset({901}))


# --- helpers for the log-in, card-file, visibility and rules tests ---------------------------------
# Imported here rather than at the top, so the lines above stay as they were.
from typing import Any  # noqa: E402

import pytest  # noqa: E402
from sqlalchemy import select  # noqa: E402

from core.access import AccessService  # noqa: E402
from core.cardfile import PersonData  # noqa: E402
from core.clock import FixedClock  # noqa: E402
from core.enums import AppointmentSource, AppointmentStatus  # noqa: E402
from core.login import EmailLogin  # noqa: E402
from storage.models import Appointment, OutboxMessage  # noqa: E402


class RecordingEmail:
    """A mail server that only remembers what it was asked to send: (to, code)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send_login_code(self, to: str, code: str, ttl_minutes: int) -> None:
        self.sent.append((to, code))

    @property
    def last_code(self) -> str:
        return self.sent[-1][1]


async def email_login(db: Database, clock: FixedClock, telegram_id: int, address: str, *,
                      staff: Staff = STAFF) -> Identity:
    """Consent, a code by e-mail and the code typed back (R1): the identity the bot then resolves."""
    access = AccessService(db, clock, staff, CONSENT)
    await access.give_consent(telegram_id, telegram_id)
    mail = RecordingEmail()
    login = EmailLogin(db, clock, mail, "test-secret")
    await login.request_code(await access.identify(telegram_id, telegram_id), address)
    await login.verify(await access.identify(telegram_id, telegram_id), mail.last_code)
    return await access.identify(telegram_id, telegram_id)


def staff_member(telegram_id: int, staff: Staff = STAFF) -> Identity:
    """A moderator or operator talking to the bot; staff need no portal account."""
    return Identity(telegram_id, telegram_id, True, roles=staff.roles_of(telegram_id))


def person(**changes: Any) -> PersonData:
    """A card-file form filled in correctly; ``changes`` override single fields."""
    values: dict[str, Any] = {
        "last_name": "Смирнова", "first_name": "Ольга", "middle_name": "Петровна", "birth_date": date(1988, 3, 14),
        "sex": Sex.FEMALE, "oms_policy": "7700000011112222", "snils": None, "phone": "+79123456789",
    }
    values.update(changes)
    return PersonData(**values)


async def imported_appointment(db: Database, slot: Slot, source: AppointmentSource, now: datetime, *,
                               oms: str | None = None, snils: str | None = None,
                               status: AppointmentStatus = AppointmentStatus.ACTIVE) -> Appointment:
    """An appointment made elsewhere (R27): no patient row and no account, the person's numbers instead."""
    async with db.write() as uow:
        row = Appointment(
            external_id=f"ext-{next(_seq)}", slot_id=slot.id, doctor_id=slot.doctor_id, starts_at=slot.starts_at,
            patient_id=None, made_by_account_id=None, source=source, patient_oms=oms, patient_snils=snils,
            status=status, created_at=now,
        )
        uow.session.add(row)
        await uow.slots.set_status(slot.id, SlotStatus.BOOKED, expected=slot.status)
        await uow.flush()
        await uow.commit()
    return row


async def outbox(db: Database, chat_id: int | None = None) -> list[OutboxMessage]:
    async with db.read() as uow:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if chat_id is not None:
            query = query.where(OutboxMessage.chat_id == chat_id)
        return list(await uow.session.scalars(query))


def bug_on_postgres(request: pytest.FixtureRequest, db: Database, reason: str) -> None:
    """Mark a test as a known PostgreSQL-only bug (SQLite serializes writers with BEGIN IMMEDIATE)."""
    if not db.is_sqlite:
        request.applymarker(pytest.mark.xfail(reason=reason, strict=True))


async def ready_connections(db: Database, count: int) -> None:
    """Open ``count`` pooled connections before a burst of concurrent calls, so all of them start at once
    instead of the first ones finishing while the others still connect. PostgreSQL only: SQLite
    serializes writers anyway."""
    if db.is_sqlite:
        return
    import asyncio

    from sqlalchemy import text

    barrier = asyncio.Barrier(count)

    async def hold() -> None:
        async with db.read() as uow:
            await uow.session.execute(text("SELECT 1"))
            await barrier.wait()

    await asyncio.gather(*(hold() for _ in range(count)))
