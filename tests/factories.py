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
