"""Booking and cancelling appointments (R5–R7, R16–R19)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core import slot_events
from core.catalog import CatalogCache, DoctorInfo
from core.clock import Clock
from core.cutoff import cancel_deadline
from core.enums import AppointmentSource, AppointmentStatus, SlotStatus
from core.errors import (
    AlreadyCancelled,
    BeyondHorizon,
    CutoffPassed,
    NotFound,
    OnePerDoctor,
    SlotInPast,
    SlotTaken,
)
from core.identity import Identity
from core.people import ensure_may_act, own_person
from core.rules import RuleDefaults, current
from storage.db import Database
from storage.models import Appointment, Patient
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class AppointmentView:
    id: int
    patient_id: int | None
    patient_name: str | None
    doctor: DoctorInfo
    starts_at: datetime
    source: AppointmentSource
    status: AppointmentStatus
    made_here: bool  # made under the viewing account (R16)
    cancel_deadline: datetime | None  # None: this account may not cancel it

    def cancellable(self, now: datetime) -> bool:
        return (self.status == AppointmentStatus.ACTIVE and self.cancel_deadline is not None
                and now < self.cancel_deadline)


class BookingService:
    def __init__(self, db: Database, clock: Clock, catalog: CatalogCache, horizon_days: int,
                 rule_defaults: RuleDefaults) -> None:
        self.db = db
        self.clock = clock
        self.catalog = catalog
        self.horizon = timedelta(days=horizon_days)
        self.rule_defaults = rule_defaults

    async def bookable_people(self, identity: Identity) -> list[Patient]:
        """R5: the people the account may book for; the caller skips the choice when there is one."""
        account_id = identity.require_account()
        async with self.db.read() as uow:
            return await uow.patients.of_account(account_id)

    async def start(self, identity: Identity) -> tuple[list[Patient], Patient | None]:
        """R5: the card file's people, and the one chosen automatically when there is only one."""
        people = await self.bookable_people(identity)
        if len(people) != 1:
            return people, None
        ensure_may_act(people[0])
        return people, people[0]

    async def choose(self, identity: Identity, patient_id: int) -> tuple[Patient, bool]:
        """A person picked from the list (R5); also says whether there was a choice to go back to."""
        account_id = identity.require_account()
        async with self.db.read() as uow:
            people = await uow.patients.of_account(account_id)
        patient = next((p for p in people if p.id == patient_id), None)
        if patient is None:
            raise NotFound()
        ensure_may_act(patient)
        return patient, len(people) > 1

    async def preview(self, identity: Identity, patient_id: int, slot_id: int) -> tuple[Patient, DoctorInfo, datetime]:
        """The summary before «Подтвердить»: whose booking, which doctor, when (one read)."""
        account_id = identity.require_account()
        async with self.db.read() as uow:
            patient = await uow.patients.owned_by(account_id, patient_id)
            slot = await uow.slots.get(slot_id)
        if patient is None or slot is None:
            raise NotFound()
        ensure_may_act(patient)
        return patient, await self.catalog.doctor(slot.doctor_id), slot.starts_at

    async def check_patient(self, identity: Identity, patient_id: int) -> Patient:
        """Before the specialty step: the person is this account's and confirmed (R2)."""
        account_id = identity.require_account()
        async with self.db.read() as uow:
            patient = await own_person(uow, account_id, patient_id)
        ensure_may_act(patient)
        return patient

    async def book(self, identity: Identity, patient_id: int, slot_id: int) -> AppointmentView:
        account_id = identity.require_account()
        now = self.clock.now()
        async with self.db.write() as uow:
            patient = await own_person(uow, account_id, patient_id)
            ensure_may_act(patient)
            slot = await uow.slots.get(slot_id)
            if slot is None:
                raise NotFound()
            if slot.starts_at <= now:
                raise SlotInPast()
            if slot.starts_at > now + self.horizon:
                raise BeyondHorizon()
            existing = await uow.appointments.future_with_doctor(patient.id, slot.doctor_id, now)
            if existing is not None:
                raise OnePerDoctor(existing.starts_at)
            # R7: the conditional UPDATE decides; a held slot (offered to the queue) is not free either.
            if not await uow.slots.take(slot.id, now):
                raise SlotTaken()
            appointment = await uow.appointments.add(Appointment(
                slot_id=slot.id, doctor_id=slot.doctor_id, starts_at=slot.starts_at, patient_id=patient.id,
                made_by_account_id=account_id, source=AppointmentSource.PORTAL,
                status=AppointmentStatus.ACTIVE, created_at=now,
                # R22: the person's identity travels with the booking, so their own ESIA account shows it.
                patient_oms=patient.oms_policy, patient_snils=patient.snils,
            ))
            uow.audit.record(now, "appointment.booked", actor=identity.telegram_id, account_id=account_id,
                             subject=f"appointment:{appointment.id}")
            rules = await current(uow, self.rule_defaults)
            await uow.commit()
        doctor = await self.catalog.doctor(slot.doctor_id)
        return AppointmentView(
            appointment.id, patient.id, patient.full_name, doctor, appointment.starts_at,
            appointment.source, appointment.status, True,
            cancel_deadline(appointment.starts_at, doctor.org.timezone, rules.cancel_cutoff),
        )

    async def appointment(self, identity: Identity, appointment_id: int) -> AppointmentView:
        account_id = identity.require_account()
        async with self.db.read() as uow:
            appointment = await self._own(uow, account_id, appointment_id)
            patient = await uow.patients.get(appointment.patient_id) if appointment.patient_id else None
            rules = await current(uow, self.rule_defaults)
        doctor = await self.catalog.doctor(appointment.doctor_id)
        return AppointmentView(
            appointment.id, appointment.patient_id, patient.full_name if patient else None, doctor,
            appointment.starts_at, appointment.source, appointment.status, True,
            cancel_deadline(appointment.starts_at, doctor.org.timezone, rules.cancel_cutoff),
        )

    async def cancel(self, identity: Identity, appointment_id: int) -> AppointmentView:
        """R16–R19: only this account's own, only before the cutoff; the freed time goes to the queue."""
        account_id = identity.require_account()
        now = self.clock.now()
        async with self.db.write() as uow:
            appointment = await self._own(uow, account_id, appointment_id)
            if appointment.status != AppointmentStatus.ACTIVE:
                raise AlreadyCancelled()
            patient = await uow.patients.get(appointment.patient_id) if appointment.patient_id else None
            if patient is not None:
                ensure_may_act(patient)
            doctor = await self.catalog.doctor(appointment.doctor_id)
            rules = await current(uow, self.rule_defaults)
            deadline = cancel_deadline(appointment.starts_at, doctor.org.timezone, rules.cancel_cutoff)
            if now >= deadline:
                raise CutoffPassed(deadline, doctor.org.phone)
            if not await uow.appointments.cancel(appointment.id, now, by="patient"):
                raise AlreadyCancelled()
            if await uow.slots.set_status(appointment.slot_id, SlotStatus.FREE, expected=SlotStatus.BOOKED):
                await slot_events.slots_freed(uow, [appointment.slot_id], now)
            uow.audit.record(now, "appointment.cancelled", actor=identity.telegram_id, account_id=account_id,
                             subject=f"appointment:{appointment.id}")
            await uow.commit()
        return AppointmentView(
            appointment.id, appointment.patient_id, patient.full_name if patient else None, doctor,
            appointment.starts_at, appointment.source, AppointmentStatus.CANCELLED, True, deadline,
        )

    @staticmethod
    async def _own(uow: UnitOfWork, account_id: int, appointment_id: int) -> Appointment:
        """R16: only appointments made under this account; anything else is «not found»."""
        appointment = await uow.appointments.get(appointment_id)
        if appointment is None or appointment.made_by_account_id != account_id:
            raise NotFound()
        return appointment
