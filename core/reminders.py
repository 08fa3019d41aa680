"""Reminders before a visit: the day before and a few hours before (settings)."""

from __future__ import annotations

from datetime import timedelta

from core import notify
from core.clock import Clock
from storage.db import Database


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

    async def send_due(self, limit: int = 200) -> int:
        """Queue the reminders now due; each appointment's mark is set once, whatever the ticks."""
        now = self.clock.now()
        sent = 0
        async with self.db.write() as uow:
            for column, ahead in self.windows:
                for appointment in await uow.appointments.due_reminders(column, now, now + ahead, limit):
                    marked = await uow.appointments.mark_reminded(appointment.id, column, now)
                    if not marked or appointment.made_by_account_id is None:
                        continue
                    # A later window already covers a visit booked at the last moment: one reminder is enough.
                    soon_covers = self.soon is not None and appointment.starts_at - now <= self.soon
                    if column == "reminded_day_at" and soon_covers:
                        continue
                    await notify.to_account(uow, appointment.made_by_account_id, notify.Kind.REMINDER, {
                        "appointment_id": appointment.id, "doctor_id": appointment.doctor_id,
                        "patient_id": appointment.patient_id, "starts_at": appointment.starts_at.isoformat(),
                    }, now)
                    sent += 1
            await uow.commit()
        return sent
