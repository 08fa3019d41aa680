from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import AppointmentSource, AppointmentStatus, SlotStatus
from storage.models import Appointment, Patient, Slot


def _changed(result: object) -> int:
    return int(result.rowcount)  # type: ignore[attr-defined]


class SlotRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _update_status(self, new: SlotStatus, *where: Any) -> bool:
        """One conditional UPDATE: true if it changed the row, which only one caller can."""
        return _changed(await self.session.execute(update(Slot).where(*where).values(status=new))) == 1

    async def get(self, slot_id: int) -> Slot | None:
        return await self.session.get(Slot, slot_id)

    async def by_external(self, external_id: str) -> Slot | None:
        return await self.session.scalar(select(Slot).where(Slot.external_id == external_id))

    async def by_ids(self, slot_ids: Sequence[int]) -> dict[int, Slot]:
        if not slot_ids:
            return {}
        return {s.id: s for s in await self.session.scalars(select(Slot).where(Slot.id.in_(slot_ids)))}

    async def free_starts(self, doctor_id: int, after: datetime, before: datetime) -> list[datetime]:
        """Start times of a doctor's free slots in a window; served by ix_slots_doctor_status_start."""
        rows = await self.session.scalars(
            select(Slot.starts_at)
            .where(
                Slot.doctor_id == doctor_id,
                Slot.status == SlotStatus.FREE,
                Slot.starts_at > after,
                Slot.starts_at < before,
            )
            .order_by(Slot.starts_at)
        )
        return list(rows)

    async def free_of_doctor(self, doctor_id: int, after: datetime, before: datetime) -> list[tuple[int, datetime]]:
        """(slot, start) of a doctor's free slots in a window, by time; ix_slots_doctor_status_start."""
        rows = await self.session.execute(
            select(Slot.id, Slot.starts_at)
            .where(Slot.doctor_id == doctor_id, Slot.status == SlotStatus.FREE,
                   Slot.starts_at > after, Slot.starts_at < before)
            .order_by(Slot.starts_at, Slot.id)
        )
        return [(slot_id, starts) for slot_id, starts in rows.all()]

    async def nearest_free(self, doctor_ids: Sequence[int], after: datetime, before: datetime) -> dict[int, datetime]:
        """Each doctor's nearest free time in a window, for the doctors that have one."""
        if not doctor_ids:
            return {}
        rows = await self.session.execute(
            select(Slot.doctor_id, func.min(Slot.starts_at))
            .where(Slot.doctor_id.in_(doctor_ids), Slot.status == SlotStatus.FREE,
                   Slot.starts_at > after, Slot.starts_at < before)
            .group_by(Slot.doctor_id)
        )
        return {doctor_id: starts for doctor_id, starts in rows.all()}

    async def day(self, doctor_id: int, after: datetime, before: datetime) -> list[Slot]:
        """Every slot of a doctor in a window, whatever its status: the schedule view (R19)."""
        rows = await self.session.scalars(
            select(Slot)
            .where(Slot.doctor_id == doctor_id, Slot.starts_at >= after, Slot.starts_at < before)
            .where(Slot.status != SlotStatus.WITHDRAWN)
            .order_by(Slot.starts_at)
        )
        return list(rows)

    async def take(self, slot_id: int, now: datetime) -> bool:
        """R7: a free future slot becomes booked; of two patients taking it at once, one does."""
        return await self._update_status(
            SlotStatus.BOOKED, Slot.id == slot_id, Slot.status == SlotStatus.FREE, Slot.starts_at > now)

    async def take_held(self, slot_id: int, now: datetime) -> bool:
        """A slot held for a waitlisted patient becomes theirs (R11); only one caller changes the row."""
        return await self._update_status(
            SlotStatus.BOOKED, Slot.id == slot_id, Slot.status == SlotStatus.HELD, Slot.starts_at > now)

    async def set_status(self, slot_id: int, new: SlotStatus, *, expected: SlotStatus) -> bool:
        return await self._update_status(new, Slot.id == slot_id, Slot.status == expected)

    async def add(self, slot: Slot) -> Slot:
        self.session.add(slot)
        await self.session.flush()
        return slot


class AppointmentRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_portal(self, patient: Patient, account_id: int, slot: Slot, now: datetime) -> Appointment:
        """A booking made here for a person of the account's card file (R5, R11): the person's policy
        and SNILS travel with it, so their own ESIA account shows it too (R22)."""
        appointment = Appointment(
            slot_id=slot.id, doctor_id=slot.doctor_id, starts_at=slot.starts_at, patient_id=patient.id,
            made_by_account_id=account_id, source=AppointmentSource.PORTAL, status=AppointmentStatus.ACTIVE,
            created_at=now, patient_oms=patient.oms_policy, patient_snils=patient.snils,
        )
        self.session.add(appointment)
        await self.session.flush()
        return appointment

    async def get(self, appointment_id: int) -> Appointment | None:
        return await self.session.get(Appointment, appointment_id)

    async def by_external(self, external_id: str) -> Appointment | None:
        return await self.session.scalar(select(Appointment).where(Appointment.external_id == external_id))

    async def active_on_slot(self, slot_id: int) -> Appointment | None:
        return await self.session.scalar(
            select(Appointment).where(Appointment.slot_id == slot_id, Appointment.status == AppointmentStatus.ACTIVE)
        )

    async def future_with_doctor(self, patient_id: int, doctor_id: int, now: datetime) -> Appointment | None:
        return await self.session.scalar(
            select(Appointment).where(
                Appointment.patient_id == patient_id,
                Appointment.doctor_id == doctor_id,
                Appointment.status == AppointmentStatus.ACTIVE,
                Appointment.starts_at > now,
            ).limit(1)
        )

    async def has_future(self, patient_id: int, now: datetime) -> bool:
        found = await self.session.scalar(
            select(Appointment.id).where(
                Appointment.patient_id == patient_id,
                Appointment.status == AppointmentStatus.ACTIVE,
                Appointment.starts_at > now,
            ).limit(1)
        )
        return found is not None

    async def cancel(self, appointment_id: int, now: datetime, by: str) -> bool:
        result = await self.session.execute(
            update(Appointment)
            .where(Appointment.id == appointment_id, Appointment.status == AppointmentStatus.ACTIVE)
            .values(status=AppointmentStatus.CANCELLED, cancelled_at=now, cancelled_by=by)
        )
        return _changed(result) == 1

    async def visible(
        self,
        account_id: int,
        patient_ids: Sequence[int],
        owner_identity: tuple[str | None, str | None] | None,
    ) -> list[Appointment]:
        """Appointments the card file may show (R21–R23); the rule deciding the arguments is in core.

        ``patient_ids`` get portal appointments made under this account. ``owner_identity``
        (policy, SNILS), given only for an ESIA owner, adds appointments from every source.
        """
        made_here = and_(
            Appointment.made_by_account_id == account_id,
            Appointment.source == AppointmentSource.PORTAL,
            Appointment.patient_id.in_(patient_ids),
        )
        clauses = [made_here]
        if owner_identity is not None:
            oms, snils = owner_identity
            if oms:
                clauses.append(Appointment.patient_oms == oms)
            if snils:
                clauses.append(Appointment.patient_snils == snils)
        rows = await self.session.scalars(
            select(Appointment).where(or_(*clauses)).order_by(Appointment.starts_at)
        )
        return list(rows)

    async def active_of_account_on_slots(self, account_id: int, slot_ids: Sequence[int]) -> list[Appointment]:
        if not slot_ids:
            return []
        rows = await self.session.scalars(
            select(Appointment).where(
                Appointment.slot_id.in_(slot_ids),
                Appointment.status == AppointmentStatus.ACTIVE,
                Appointment.made_by_account_id == account_id,
            )
        )
        return list(rows)

    async def due_reminders(self, column: str, start: datetime, end: datetime, limit: int) -> list[Appointment]:
        col = getattr(Appointment, column)
        rows = await self.session.scalars(
            select(Appointment)
            .where(
                Appointment.status == AppointmentStatus.ACTIVE,
                Appointment.source == AppointmentSource.PORTAL,
                Appointment.starts_at > start,
                Appointment.starts_at <= end,
                col.is_(None),
            )
            .order_by(Appointment.starts_at)
            .limit(limit)
        )
        return list(rows)

    async def mark_reminded(self, appointment_id: int, column: str, now: datetime) -> bool:
        """Set a reminder mark once; a second tick or process finds it set and sends nothing."""
        col = getattr(Appointment, column)
        result = await self.session.execute(
            update(Appointment).where(Appointment.id == appointment_id, col.is_(None)).values({column: now}))
        return _changed(result) == 1
