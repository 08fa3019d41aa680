"""Booking and cancelling appointments (R5–R7, R16–R19)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from core.access import ensure_may_act, own_person
from core.cardfile import Person
from core.catalog import DoctorInfo, doctor_in
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
from core.rules import RuleDefaults, current
from core.waitlist import offer_freed_slots
from storage.db import Database
from storage.models import Appointment
from storage.uow import UnitOfWork

CANCELLED_BY_PATIENT = "patient"  # Appointment.cancelled_by: by the account that made it, here


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
    ends_at: datetime | None = None  # the slot's end, where the slot was read: the visit's length

    def cancellable(self, now: datetime) -> bool:
        return (self.status == AppointmentStatus.ACTIVE and self.cancel_deadline is not None
                and now < self.cancel_deadline)


async def cancel_own(uow: UnitOfWork, appointment: Appointment, now: datetime, *,
                     actor: int | None = None) -> int | None:
    """The writes of a cancel by the account that made the appointment (R16, R18): the appointment
    cancelled, its slot free again. Returns the slot freed (the caller hands it to the waitlist, R10),
    or None when the clinic's system had already taken it; AlreadyCancelled if it was cancelled meanwhile."""
    if not await uow.appointments.cancel(appointment.id, now, by=CANCELLED_BY_PATIENT):
        raise AlreadyCancelled()
    freed = await uow.slots.set_status(appointment.slot_id, SlotStatus.FREE, expected=SlotStatus.BOOKED)
    uow.audit.record(now, "appointment.cancelled", actor=actor, account_id=appointment.made_by_account_id,
                     subject=f"appointment:{appointment.id}")
    return appointment.slot_id if freed else None


class BookingService:
    def __init__(self, db: Database, clock: Clock, horizon_days: int = 14,
                 rule_defaults: RuleDefaults | None = None) -> None:
        self.db = db
        self.clock = clock
        self.horizon = timedelta(days=horizon_days)
        self.rule_defaults = rule_defaults or RuleDefaults()

    async def bookable_people(self, identity: Identity) -> list[Person]:
        """R5: the people the account may book for; the caller skips the choice when there is one."""
        account_id = identity.require_account()
        async with self.db.read() as uow:
            return [Person.of(p) for p in await uow.patients.of_account(account_id)]

    async def start(self, identity: Identity) -> tuple[list[Person], Person | None]:
        """R5: the card file's people, and the one chosen automatically when there is only one."""
        account_id = identity.require_account()
        async with self.db.read() as uow:
            people = await uow.patients.of_account(account_id)
        if len(people) != 1:
            return [Person.of(p) for p in people], None
        ensure_may_act(people[0])
        return [Person.of(people[0])], Person.of(people[0])

    async def choose(self, identity: Identity, patient_id: int) -> tuple[Person, bool]:
        """A person picked from the list (R5); also says whether there was a choice to go back to."""
        account_id = identity.require_account()
        async with self.db.read() as uow:
            people = await uow.patients.of_account(account_id)
        patient = next((p for p in people if p.id == patient_id), None)
        if patient is None:
            raise NotFound()
        ensure_may_act(patient)
        return Person.of(patient), len(people) > 1

    async def preview(self, identity: Identity, patient_id: int, slot_id: int) -> tuple[Person, DoctorInfo, datetime]:
        """The summary before «Подтвердить»: whose booking, which doctor, when. Display only: booking
        checks everything again."""
        account_id = identity.require_account()
        async with self.db.read() as uow:
            patient = await own_person(uow, account_id, patient_id)
            ensure_may_act(patient)
            slot = await uow.slots.get(slot_id)
            if slot is None:
                raise NotFound()
            doctor = await doctor_in(uow, slot.doctor_id)
        return Person.of(patient), doctor, slot.starts_at

    async def check_patient(self, identity: Identity, patient_id: int) -> Person:
        """Before the specialty step: the person is this account's and confirmed (R2)."""
        account_id = identity.require_account()
        async with self.db.read() as uow:
            patient = await own_person(uow, account_id, patient_id)
        ensure_may_act(patient)
        return Person.of(patient)

    async def book(self, identity: Identity, patient_id: int, slot_id: int) -> AppointmentView:
        """R5–R7: the refusals in the order a patient can act on them."""
        account_id = identity.require_account()
        now = self.clock.now()
        async with self.db.write() as uow:
            patient = await own_person(uow, account_id, patient_id, lock=True)
            ensure_may_act(patient)
            slot = await uow.slots.get(slot_id)
            if slot is None:
                raise NotFound()
            doctor = await doctor_in(uow, slot.doctor_id)
            if slot.starts_at <= now:
                raise SlotInPast()
            if slot.starts_at > now + self.horizon:
                raise BeyondHorizon()
            held = await uow.appointments.active_on_slot(slot.id)
            if held is not None and held.patient_id == patient.id and held.made_by_account_id == account_id:
                # A repeated press (double tap, redelivered update, restart): the booking is committed,
                # so the answer is the booking, as the first press would have said.
                rules = await current(uow, self.rule_defaults)
                return self._view(held, patient.full_name, doctor, rules.cancel_cutoff, slot.ends_at)
            existing = await uow.appointments.future_with_doctor(patient.id, slot.doctor_id, now)
            if existing is not None:
                raise OnePerDoctor(existing.starts_at)
            if not await uow.slots.take(slot.id, now):  # R7: the database says who got it
                raise SlotTaken()
            appointment = await uow.appointments.add_portal(patient, account_id, slot, now)
            rules = await current(uow, self.rule_defaults)
            uow.audit.record(now, "appointment.booked", actor=identity.telegram_id, account_id=account_id,
                             subject=f"appointment:{appointment.id}")
            await uow.commit()
        return self._view(appointment, patient.full_name, doctor, rules.cancel_cutoff, slot.ends_at)

    @staticmethod
    def _view(appointment: Appointment, patient_name: str | None, doctor: DoctorInfo,
              cutoff: time, ends_at: datetime | None = None) -> AppointmentView:
        return AppointmentView(
            appointment.id, appointment.patient_id, patient_name, doctor, appointment.starts_at,
            appointment.source, appointment.status, True,
            cancel_deadline(appointment.starts_at, doctor.org.timezone, cutoff), ends_at,
        )

    async def appointment(self, identity: Identity, appointment_id: int) -> AppointmentView:
        account_id = identity.require_account()
        async with self.db.read() as uow:
            appointment = await self._own(uow, account_id, appointment_id)
            patient = await uow.patients.get(appointment.patient_id) if appointment.patient_id else None
            rules = await current(uow, self.rule_defaults)
            doctor = await doctor_in(uow, appointment.doctor_id)
            slot = await uow.slots.get(appointment.slot_id)
        return AppointmentView(
            appointment.id, appointment.patient_id, patient.full_name if patient else None, doctor,
            appointment.starts_at, appointment.source, appointment.status, True,
            cancel_deadline(appointment.starts_at, doctor.org.timezone, rules.cancel_cutoff),
            slot.ends_at if slot is not None else None,
        )

    async def cancel(self, identity: Identity, appointment_id: int) -> AppointmentView:
        """R16–R19: only this account's own, only before the cutoff; the freed time goes to the queue."""
        account_id = identity.require_account()
        now = self.clock.now()
        async with self.db.write() as uow:
            appointment = await self._own(uow, account_id, appointment_id)
            patient = await uow.patients.get(appointment.patient_id) if appointment.patient_id else None
            if appointment.status != AppointmentStatus.ACTIVE:
                if appointment.cancelled_by != CANCELLED_BY_PATIENT:
                    raise AlreadyCancelled()
                # A repeated «Ок»: this account cancelled it (only it may, R16), so the answer is that
                # cancellation, whatever the clock says now.
                rules = await current(uow, self.rule_defaults)
                doctor = await doctor_in(uow, appointment.doctor_id)
                return self._view(appointment, patient.full_name if patient else None, doctor, rules.cancel_cutoff)
            if patient is not None:
                ensure_may_act(patient)
            doctor = await doctor_in(uow, appointment.doctor_id)
            rules = await current(uow, self.rule_defaults)
            deadline = cancel_deadline(appointment.starts_at, doctor.org.timezone, rules.cancel_cutoff)
            if now >= deadline:
                raise CutoffPassed(deadline, doctor.org.phone)
            freed = await cancel_own(uow, appointment, now, actor=identity.telegram_id)
            if freed is not None:
                await offer_freed_slots(uow, [freed], now, self.rule_defaults)
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
