"""The card file (картотека, R4): the owner and the people they added, each moderated (R2)."""

from __future__ import annotations

from datetime import datetime

from core import notify
from core.clock import Clock
from core.enums import ModerationStatus
from core.errors import HasFutureAppointments, InvalidInput, NotAllowed, OwnerCannotBeRemoved
from core.identity import Identity, Staff
from core.people import PersonData, moderation_payload, own_person, phone_required
from core.waitlist import release_held
from storage.db import Database
from storage.models import Patient
from storage.uow import UnitOfWork


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
