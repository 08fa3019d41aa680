"""Moderators confirm or reject a person's data (R2, R24); the first decision wins."""

from __future__ import annotations

from core import notify
from core.clock import Clock
from core.enums import ModerationStatus, Role
from core.errors import AlreadyDecided, InvalidInput, NotFound
from core.identity import Identity, Staff
from storage.db import Database
from storage.models import Patient

MAX_REASON = 500


class ModerationService:
    def __init__(self, db: Database, clock: Clock, staff: Staff | None = None) -> None:
        self.db = db
        self.clock = clock
        self.staff = staff or Staff()

    async def pending(self, identity: Identity) -> list[Patient]:
        identity.require_role(Role.MODERATOR)
        async with self.db.read() as uow:
            return await uow.patients.pending()

    async def submission(self, identity: Identity, patient_id: int) -> Patient:
        identity.require_role(Role.MODERATOR)
        async with self.db.read() as uow:
            patient = await uow.patients.get(patient_id)
        if patient is None or patient.removed_at is not None:
            raise NotFound()
        return patient

    async def undecided(self, identity: Identity, patient_id: int) -> Patient:
        """Before asking a moderator for a reason: is there still something to decide?"""
        patient = await self.submission(identity, patient_id)
        if patient.status != ModerationStatus.PENDING:
            raise AlreadyDecided(patient.status)
        return patient

    async def confirm(self, identity: Identity, patient_id: int) -> Patient:
        return await self._decide(identity, patient_id, ModerationStatus.CONFIRMED, None)

    async def reject(self, identity: Identity, patient_id: int, reason: str) -> Patient:
        cleaned = " ".join(reason.split())
        if not cleaned:
            raise InvalidInput("reason", "empty")
        if len(cleaned) > MAX_REASON:
            raise InvalidInput("reason", "too_long")
        return await self._decide(identity, patient_id, ModerationStatus.REJECTED, cleaned)

    async def _decide(self, identity: Identity, patient_id: int, status: ModerationStatus,
                      reason: str | None) -> Patient:
        identity.require_role(Role.MODERATOR)
        now = self.clock.now()
        async with self.db.write() as uow:
            patient = await uow.patients.get(patient_id)
            if patient is None or patient.removed_at is not None:
                raise NotFound()
            if not await uow.patients.decide(patient_id, status, reason, identity.telegram_id, now):
                await uow.patients.reload(patient)
                raise AlreadyDecided(patient.status)
            await uow.patients.reload(patient)
            await notify.to_account(uow, patient.account_id, notify.Kind.MODERATION_RESULT, {
                "patient_id": patient.id,
                "first_name": patient.first_name,
                "last_name": patient.last_name,
                "confirmed": status == ModerationStatus.CONFIRMED,
                "reason": reason,
            }, now)
            for moderator in sorted(self.staff.moderators - {identity.telegram_id}):
                notify.to_chat(uow, moderator, notify.Kind.MODERATION_HANDLED, {
                    "patient_id": patient.id, "last_name": patient.last_name, "first_name": patient.first_name,
                    "confirmed": status == ModerationStatus.CONFIRMED,
                }, now)
            uow.audit.record(now, f"moderation.{status.value}", actor=identity.telegram_id,
                             account_id=patient.account_id, subject=f"patient:{patient.id}")
            await uow.commit()
            return patient
