"""One unit of work: a session and the repositories that share it; or a write of direct statements only."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.changes import SlotChange
from storage.direct import Target
from storage.repositories.audit import AuditRepo, AuditTrail
from storage.repositories.clinic import ClinicRepo
from storage.repositories.conversations import ConversationRepo
from storage.repositories.login import LoginRepo
from storage.repositories.outbox import OutboxRepo
from storage.repositories.patients import PatientRepo
from storage.repositories.rules import RuleRepo
from storage.repositories.schedule import AppointmentRepo, SlotRepo, book_free, insert_appointment
from storage.repositories.sync import SyncRepo
from storage.repositories.waitlist import WaitlistRepo


class UnitOfWork:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.login = LoginRepo(session)
        self.patients = PatientRepo(session)
        self.clinic = ClinicRepo(session)
        self.slots = SlotRepo(session)
        self.appointments = AppointmentRepo(session)
        self.waitlist = WaitlistRepo(session)
        self.rules = RuleRepo(session)
        self.outbox = OutboxRepo(session)
        self.audit = AuditRepo(session)
        self.sync = SyncRepo(session)  # bulk look-ups of the clinic-data import
        self.conversations = ConversationRepo(session)
        self.committed = False

    async def commit(self) -> None:
        await self.audit.write_pending()
        await self.session.commit()
        self.committed = True

    async def flush(self) -> None:
        await self.session.flush()


class DirectUnitOfWork:
    """A write made of direct statements only (``Database.direct_write``): a booking. On SQLite it runs
    in a ``DirectTransaction``, with no session; elsewhere in a session's transaction."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.audit = AuditTrail(target)
        self.committed = False

    async def book_free(self, slot_id: int, patient_id: int, account_id: int, now: datetime,
                        latest: datetime) -> SlotChange | None:
        return await book_free(self.target, slot_id, patient_id, account_id, now, latest)

    async def insert_appointment(self, values: Mapping[str, Any]) -> int:
        return await insert_appointment(self.target, values)

    async def commit(self) -> None:
        await self.audit.write_pending()
        await self.target.commit()
        self.committed = True
