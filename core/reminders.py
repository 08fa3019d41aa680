"""Reminders before a visit: the day before and a few hours before (settings)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from core import notify
from core.clock import Clock
from storage.db import Database
from storage.models import Appointment
from storage.uow import UnitOfWork

# Visits a reminder transaction handles (see ``ReminderService.send_due``).
CHUNK = 20


class ReminderService:
    def __init__(self, db: Database, clock: Clock, *, day_before: bool, hours_before: int) -> None:
        self.db = db
        self.clock = clock
        self.windows: list[tuple[str, timedelta]] = []
        if day_before:
            self.windows.append(("reminded_day_at", timedelta(hours=24)))
        self.soon = timedelta(hours=hours_before) if hours_before > 0 else None
        if self.soon is not None:
            self.windows.append(("reminded_soon_at", self.soon))

    async def send_due(self, limit: int = 200, chunk: int = CHUNK) -> int:
        """Queue the reminders now due; each appointment's mark is set once, whatever the ticks.

        A transaction marks ``chunk`` visits and queues their messages, and bookings get a turn between
        two: a write transaction holds SQLite's one writer, and a morning's two hundred reminders in
        one would keep every booking waiting meanwhile."""
        if chunk < 1:
            raise ValueError("a reminder transaction handles at least one visit")
        now = self.clock.now()
        sent = 0
        for column, ahead in self.windows:
            left = limit
            while left > 0:
                wanted = min(chunk, left)
                async with self.db.write() as uow:
                    due = await uow.appointments.due_reminders(column, now, now + ahead, wanted)
                    queued = 0
                    for appointment in due:
                        queued += await self._remind(uow, appointment, column, now)
                    await uow.commit()
                sent += queued
                left -= len(due)
                if len(due) < wanted:
                    break
                await asyncio.sleep(0)
        return sent

    async def _remind(self, uow: UnitOfWork, appointment: Appointment, column: str, now: datetime) -> int:
        """Mark the visit reminded and queue the message (1), or only mark it (0)."""
        marked = await uow.appointments.mark_reminded(appointment.id, column, now)
        if not marked or appointment.made_by_account_id is None:
            return 0
        # A later window already covers a visit booked at the last moment: one reminder is enough.
        soon_covers = self.soon is not None and appointment.starts_at - now <= self.soon
        if column == "reminded_day_at" and soon_covers:
            return 0
        await notify.to_account(uow, appointment.made_by_account_id, notify.Kind.REMINDER, {
            "appointment_id": appointment.id, "doctor_id": appointment.doctor_id,
            "patient_id": appointment.patient_id, "starts_at": appointment.starts_at.isoformat(),
        }, now)
        return 1
