"""The data of a person in a card file, as typed and checked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from core.enums import AppointmentSource, AppointmentStatus, ModerationStatus, Sex
from core.errors import NotFound, PersonNotConfirmed
from storage.models import Appointment, Patient
from storage.snapshots import Person
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class PersonData:
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


def ensure_may_act(patient: Patient | Person) -> None:
    """R2: book, queue and cancel only for people whose data a moderator confirmed."""
    if patient.status != ModerationStatus.CONFIRMED:
        raise PersonNotConfirmed(patient.status, patient.rejection_reason)


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


async def own_person(uow: UnitOfWork, account_id: int, patient_id: int) -> Patient:
    """A person of this account's card file; any other id (a forged button) is «not found»."""
    patient = await uow.patients.owned_by(account_id, patient_id)
    if patient is None:
        raise NotFound()
    return patient


def portal_appointment_values(patient: Patient | Person, account_id: int, slot_id: int, doctor_id: int,
                              starts_at: datetime, now: datetime) -> dict[str, Any]:
    """A booking made here for a person of the account's card file (R5, R11): the appointment's
    columns, for a plain INSERT (an ORM object costs more to make than the booking's UPDATE)."""
    return {
        "slot_id": slot_id, "doctor_id": doctor_id, "starts_at": starts_at, "patient_id": patient.id,
        "made_by_account_id": account_id, "source": AppointmentSource.PORTAL, "status": AppointmentStatus.ACTIVE,
        "created_at": now,
        # R22: the person's identity travels with the booking, so their own ESIA account shows it.
        "patient_oms": patient.oms_policy, "patient_snils": patient.snils,
    }


def portal_appointment(patient: Patient | Person, account_id: int, slot_id: int, doctor_id: int, starts_at: datetime,
                       now: datetime) -> Appointment:
    """The same booking as an ORM object, for a unit of work that goes on using it (the waitlist's)."""
    return Appointment(**portal_appointment_values(patient, account_id, slot_id, doctor_id, starts_at, now))
