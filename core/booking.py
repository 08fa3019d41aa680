"""Booking and cancelling appointments (R5–R7, R16–R19)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

from core import slot_events
from core.catalog import DoctorInfo
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
from core.free_times import FreeTime
from core.identity import Identity
from core.people import ensure_may_act, own_person, portal_appointment_values
from core.rules import current
from core.views import Views
from storage.db import Database
from storage.models import Appointment, Patient
from storage.snapshots import Person
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
    def __init__(self, db: Database, clock: Clock, views: Views) -> None:
        self.db = db
        self.clock = clock
        self.views = views
        self.catalog = views.catalog
        self.free = views.free_times
        self.horizon = views.horizon
        self.rule_defaults = views.rules.defaults

    async def bookable_people(self, identity: Identity) -> list[Person]:
        """R5: the people the account may book for; the caller skips the choice when there is one."""
        return await self.views.people.of_account(identity.require_account())

    async def start(self, identity: Identity) -> tuple[list[Person], Person | None]:
        """R5: the card file's people, and the one chosen automatically when there is only one."""
        people = await self.bookable_people(identity)
        if len(people) != 1:
            return people, None
        ensure_may_act(people[0])
        return people, people[0]

    async def choose(self, identity: Identity, patient_id: int) -> tuple[Person, bool]:
        """A person picked from the list (R5); also says whether there was a choice to go back to."""
        people = await self.bookable_people(identity)
        patient = next((p for p in people if p.id == patient_id), None)
        if patient is None:
            raise NotFound()
        ensure_may_act(patient)
        return patient, len(people) > 1

    async def preview(self, identity: Identity, patient_id: int, slot_id: int) -> tuple[Person, DoctorInfo, datetime]:
        """The summary before «Подтвердить»: whose booking, which doctor, when. Display only, from
        memory where it can be; booking checks everything again."""
        patient = await self.views.people.person(identity.require_account(), patient_id)
        ensure_may_act(patient)
        found = self.free.find(slot_id)
        if found is None:
            async with self.db.read() as uow:
                slot = await uow.slots.get(slot_id)
            if slot is None:
                raise NotFound()
            found = slot.doctor_id, FreeTime(slot.id, slot.starts_at)
        doctor_id, free = found
        return patient, await self.catalog.doctor(doctor_id), free.starts_at

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
        # The person and the rules come from memory, not from the write transaction: on SQLite
        # writers queue one at a time, so the fewer statements a booking holds the line for, the
        # better. The UPDATE below re-checks everything that decides (R2, R7), so nothing taken from
        # memory can be stale in a way that matters: a confirmed person's policy and SNILS do not
        # change, and the rules only print the cancel deadline.
        patient = await self.views.people.person(account_id, patient_id)
        ensure_may_act(patient)
        rules = await self.views.rules.get()
        taken = await self._take(identity, patient, account_id, slot_id, now)
        if taken is None:
            await self._refuse(account_id, patient.id, slot_id, now)
        appointment_id, appointment = taken
        doctor = await self.catalog.doctor(appointment["doctor_id"])
        starts_at = appointment["starts_at"]
        return AppointmentView(
            appointment_id, patient.id, patient.full_name, doctor, starts_at, appointment["source"],
            appointment["status"], True, cancel_deadline(starts_at, doctor.org.timezone, rules.cancel_cutoff),
        )

    async def _take(self, identity: Identity, patient: Person, account_id: int, slot_id: int,
                    now: datetime) -> tuple[int, dict[str, Any]] | None:
        """The booking's one write transaction: the appointment's id and columns, or None if the slot
        could not be taken."""
        async with self.db.direct_write() as uow:
            # R7: one conditional UPDATE decides: the slot is free and in the window, the person is
            # this account's and confirmed, and has no other future visit to this doctor. A held
            # slot (offered to the queue) is not free either.
            slot = await uow.book_free(slot_id, patient.id, account_id, now, now + self.horizon)
            if slot is None:
                return None
            appointment = portal_appointment_values(patient, account_id, slot.slot_id, slot.doctor_id,
                                                    slot.starts_at, now)
            appointment_id = await uow.insert_appointment(appointment)
            uow.audit.record(now, "appointment.booked", actor=identity.telegram_id, account_id=account_id,
                             subject=f"appointment:{appointment_id}")
            await uow.commit()
        return appointment_id, appointment

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

    async def _refuse(self, account_id: int, patient_id: int, slot_id: int, now: datetime) -> NoReturn:
        """Why the slot could not be booked, in the order a patient can act on it. Read once the
        booking's transaction is over, so that a refusal does not hold SQLite's one writer while it
        explains: what it reads may be a moment later than what the UPDATE saw (the other visit
        cancelled meanwhile, say), and the patient is then told the time is gone and shown fresh times."""
        async with self.db.read() as uow:
            ensure_may_act(await own_person(uow, account_id, patient_id))  # removed or unconfirmed meanwhile
            slot = await uow.slots.get(slot_id)
            if slot is None:
                raise NotFound()
            existing = await uow.appointments.future_with_doctor(patient_id, slot.doctor_id, now)
        if slot.starts_at <= now:
            raise SlotInPast()
        if slot.starts_at > now + self.horizon:
            raise BeyondHorizon()
        if existing is not None:
            raise OnePerDoctor(existing.starts_at)
        self.free.forget(slot.doctor_id)  # maybe taken in another process: show fresh times
        raise SlotTaken()

    @staticmethod
    async def _own(uow: UnitOfWork, account_id: int, appointment_id: int) -> Appointment:
        """R16: only appointments made under this account; anything else is «not found»."""
        appointment = await uow.appointments.get(appointment_id)
        if appointment is None or appointment.made_by_account_id != account_id:
            raise NotFound()
        return appointment
