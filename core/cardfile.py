"""The card file (картотека, R4): the owner and the people they added, each moderated (R2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from core import notify
from core.access import own_person
from core.clock import Clock
from core.enums import ModerationStatus, Sex
from core.errors import HasFutureAppointments, InvalidInput, NotAllowed, OwnerCannotBeRemoved
from core.identity import Identity, Staff
from core.waitlist import release_held
from storage.db import Database
from storage.models import Patient, full_name
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class Person:
    """A person of a card file as the screens show them: no identity numbers."""

    id: int
    account_id: int
    is_owner: bool
    last_name: str
    first_name: str
    middle_name: str | None
    status: ModerationStatus
    rejection_reason: str | None

    @property
    def full_name(self) -> str:
        return full_name(self.last_name, self.first_name, self.middle_name)

    @classmethod
    def of(cls, patient: Patient) -> Person:
        return cls(patient.id, patient.account_id, patient.is_owner, patient.last_name, patient.first_name,
                   patient.middle_name, patient.status, patient.rejection_reason)


@dataclass(frozen=True)
class PersonData:
    """The card-file form, as typed and checked."""

    last_name: str
    first_name: str
    middle_name: str | None
    birth_date: date
    sex: Sex
    oms_policy: str
    snils: str | None
    phone: str | None

    def apply_to(self, patient: Patient) -> None:
        patient.last_name, patient.first_name, patient.middle_name = (
            self.last_name, self.first_name, self.middle_name)
        patient.birth_date, patient.sex = self.birth_date, self.sex
        patient.oms_policy, patient.snils, patient.phone = self.oms_policy, self.snils, self.phone


def phone_required(as_owner: bool) -> bool:
    """The owner is the one the clinic calls; a family member's own phone is optional (R4)."""
    return as_owner


def moderation_payload(patient: Patient, *, resubmitted: bool) -> dict[str, object]:
    return {
        "patient_id": patient.id,
        "last_name": patient.last_name,
        "first_name": patient.first_name,
        "middle_name": patient.middle_name,
        "birth_date": patient.birth_date.isoformat(),
        "sex": patient.sex.value,
        "oms_policy": patient.oms_policy,
        "snils": patient.snils,
        "phone": patient.phone,
        "is_owner": patient.is_owner,
        "resubmitted": resubmitted,
    }


class CardFileService:
    def __init__(self, db: Database, clock: Clock, staff: Staff) -> None:
        self.db = db
        self.clock = clock
        self.staff = staff

    async def people(self, identity: Identity) -> list[Patient]:
        account_id = identity.require_account()
        async with self.db.read() as uow:
            return await uow.patients.of_account(account_id)

    async def person(self, identity: Identity, patient_id: int) -> Patient:
        account_id = identity.require_account()
        async with self.db.read() as uow:
            patient = await own_person(uow, account_id, patient_id)
        return patient

    async def submit(self, identity: Identity, data: PersonData, *, as_owner: bool) -> Patient:
        """Add the owner (after an e-mail log-in) or a family member; both go to moderation."""
        account_id = identity.require_account()
        if phone_required(as_owner) and data.phone is None:
            raise InvalidInput("phone", "required")
        now = self.clock.now()
        async with self.db.write() as uow:
            await uow.login.lock_account(account_id)  # a double tap on «Отправить» adds one person, not two
            owner = await uow.patients.owner(account_id)
            if as_owner and owner is not None:
                raise NotAllowed()
            if not as_owner and owner is None:
                raise NotAllowed()
            patient = Patient(account_id=account_id, is_owner=as_owner, status=ModerationStatus.PENDING,
                              submitted_at=now)
            data.apply_to(patient)
            await uow.patients.add(patient)
            self._ask_moderators(uow, patient, now, resubmitted=False)
            uow.audit.record(now, "person.submitted", actor=identity.telegram_id, account_id=account_id,
                             subject=f"patient:{patient.id}")
            await uow.commit()
            return patient

    async def resubmit(self, identity: Identity, patient_id: int, data: PersonData) -> Patient:
        """A rejected person's data, fixed, goes back to the moderators."""
        account_id = identity.require_account()
        now = self.clock.now()
        async with self.db.write() as uow:
            patient = await own_person(uow, account_id, patient_id)
            if patient.status != ModerationStatus.REJECTED:
                raise NotAllowed()
            data.apply_to(patient)
            patient.status, patient.rejection_reason, patient.submitted_at = ModerationStatus.PENDING, None, now
            patient.decided_at = patient.decided_by = None
            await uow.flush()
            self._ask_moderators(uow, patient, now, resubmitted=True)
            uow.audit.record(now, "person.resubmitted", actor=identity.telegram_id, account_id=account_id,
                             subject=f"patient:{patient.id}")
            await uow.commit()
            return patient

    async def remove(self, identity: Identity, patient_id: int) -> None:
        account_id = identity.require_account()
        now = self.clock.now()
        async with self.db.write() as uow:
            patient = await own_person(uow, account_id, patient_id)
            if patient.is_owner:
                raise OwnerCannotBeRemoved()
            if await uow.appointments.has_future(patient.id, now):
                raise HasFutureAppointments()
            for slot_id in await uow.waitlist.close_all_for_patient(patient.id, now):
                await release_held(uow, slot_id, now)
            patient.removed_at = now
            uow.audit.record(now, "person.removed", actor=identity.telegram_id, account_id=account_id,
                             subject=f"patient:{patient.id}")
            await uow.commit()

    def _ask_moderators(self, uow: UnitOfWork, patient: Patient, now: datetime, *, resubmitted: bool) -> None:
        payload = moderation_payload(patient, resubmitted=resubmitted)
        for moderator in sorted(self.staff.moderators):
            notify.to_chat(uow, moderator, notify.Kind.MODERATION_REQUEST, payload, now)
