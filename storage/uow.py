"""One unit of work: a session and the repositories that share it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage.repositories.audit import AuditRepo
from storage.repositories.clinic import ClinicRepo
from storage.repositories.conversations import ConversationRepo
from storage.repositories.login import LoginRepo
from storage.repositories.outbox import OutboxRepo
from storage.repositories.patients import PatientRepo
from storage.repositories.rules import RuleRepo
from storage.repositories.schedule import AppointmentRepo, SlotRepo
from storage.repositories.sync import SyncRepo
from storage.repositories.updates import ProcessedUpdateRepo
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
        self.updates = ProcessedUpdateRepo(session)
        self.committed = False

    async def commit(self) -> None:
        await self.session.commit()
        self.committed = True

    async def flush(self) -> None:
        await self.session.flush()
