from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import AppointmentSource, AppointmentStatus, ModerationStatus, SlotStatus
from storage.changes import SlotChange, changes_of
from storage.direct import DirectStatement, Target
from storage.models import Appointment, Patient, Slot

_APPOINTMENTS = cast(Table, Appointment.__table__)
_APPOINTMENT_COLUMNS = tuple(c.key for c in _APPOINTMENTS.columns if c.key != "id")
_INSERT_APPOINTMENT = DirectStatement(insert(_APPOINTMENTS).returning(_APPOINTMENTS.c.id), _APPOINTMENT_COLUMNS)


def _book_free_statement() -> Any:
    """The UPDATE of ``book_free``, built once: it is the statement every booking runs."""
    table = cast(Table, Slot.__table__)
    slots, patients, appointments = table.c, Patient.__table__.c, _APPOINTMENTS.c
    person = (
        select(patients.id)
        .where(patients.id == bindparam("patient_id"), patients.account_id == bindparam("account_id"),
               patients.status == ModerationStatus.CONFIRMED, patients.removed_at.is_(None))
        .exists()
    )
    other_visit = (
        select(appointments.id)
        .where(appointments.patient_id == bindparam("patient_id"), appointments.doctor_id == slots.doctor_id,
               appointments.status == AppointmentStatus.ACTIVE, appointments.starts_at > bindparam("now"))
        .exists()
    )
    return (
        update(table)
        .where(slots.id == bindparam("slot_id"), slots.status == SlotStatus.FREE,
               slots.starts_at > bindparam("now"), slots.starts_at <= bindparam("latest"), person, ~other_visit)
        .values(status=SlotStatus.BOOKED)
        .returning(slots.id, slots.doctor_id, slots.starts_at)
    )


_BOOK_FREE = DirectStatement(_book_free_statement())


async def book_free(target: Target, slot_id: int, patient_id: int, account_id: int, now: datetime,
                    latest: datetime) -> SlotChange | None:
    """Book a slot in one statement, if everything that decides holds at that moment: the slot is
    free and within (now, latest]; the person is in this account's card file and confirmed (R2);
    they have no other future appointment with the slot's doctor. ``None``: something failed,
    the caller reads the rows to say what."""
    if isinstance(target, AsyncSession) and target.get_bind().dialect.name != "sqlite":
        # Two bookings of one person for two times of one doctor must not both pass the NOT EXISTS
        # of the UPDATE: on PostgreSQL each would not see the other's new row. Locking the person's
        # row queues them. (SQLite writers are serialized already by BEGIN IMMEDIATE.)
        await target.execute(select(Patient.id).where(Patient.id == patient_id).with_for_update())
    return _noted(target, await _BOOK_FREE.first(target, {
        "slot_id": slot_id, "patient_id": patient_id, "account_id": account_id, "now": now, "latest": latest,
    }), SlotStatus.BOOKED)


async def insert_appointment(target: Target, values: Mapping[str, Any]) -> int:
    """Write a new appointment with one INSERT, outside the session: bookings hold SQLite's one
    writer meanwhile, and the flush's bookkeeping is not needed for a row nobody edits after in
    the same transaction. Columns not in ``values`` are NULL. Its id."""
    unknown = values.keys() - _APPOINTMENT_COLUMNS
    if unknown:
        raise ValueError(f"appointments has no column {', '.join(sorted(unknown))}")
    row = {name: values.get(name) for name in _APPOINTMENT_COLUMNS}
    ((appointment_id,),) = await _INSERT_APPOINTMENT.rows(target, row)
    return int(appointment_id)


def _noted(target: Target, row: Any, new: SlotStatus) -> SlotChange | None:
    """The row an UPDATE … RETURNING changed, noted for the views after the commit."""
    if row is None:
        return None
    slot_id, doctor_id, starts_at = row
    change = SlotChange(slot_id, doctor_id, starts_at, new)
    changes_of(target).slots.append(change)
    return change


def _changed(result: object) -> int:
    return int(result.rowcount)  # type: ignore[attr-defined]


class SlotRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _update_status(self, new: SlotStatus, *where: Any) -> SlotChange | None:
        """One conditional UPDATE; the row it changed, if any, is noted for after the commit."""
        return _noted(self.session, (await self.session.execute(
            update(Slot).where(*where).values(status=new).returning(Slot.id, Slot.doctor_id, Slot.starts_at)
        )).first(), new)

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

    async def free_of_doctors(self, doctor_ids: Sequence[int], after: datetime,
                              before: datetime) -> list[tuple[int, int, datetime]]:
        """(doctor, slot, start) of the doctors' free slots in a window; ix_slots_doctor_status_start."""
        rows = await self.session.execute(
            select(Slot.doctor_id, Slot.id, Slot.starts_at).where(
                Slot.doctor_id.in_(doctor_ids),
                Slot.status == SlotStatus.FREE,
                Slot.starts_at > after,
                Slot.starts_at < before,
            )
        )
        return [(doctor_id, slot_id, starts) for doctor_id, slot_id, starts in rows.all()]

    async def day(self, doctor_id: int, after: datetime, before: datetime) -> list[Slot]:
        """Every slot of a doctor in a window, whatever its status: the schedule view (R19)."""
        rows = await self.session.scalars(
            select(Slot)
            .where(Slot.doctor_id == doctor_id, Slot.starts_at >= after, Slot.starts_at < before)
            .where(Slot.status != SlotStatus.WITHDRAWN)
            .order_by(Slot.starts_at)
        )
        return list(rows)

    async def take_held(self, slot_id: int, now: datetime) -> bool:
        """A slot held for a waitlisted patient becomes theirs (R11); only one caller changes the row."""
        return await self._update_status(
            SlotStatus.BOOKED, Slot.id == slot_id, Slot.status == SlotStatus.HELD, Slot.starts_at > now) is not None

    async def set_status(self, slot_id: int, new: SlotStatus, *, expected: SlotStatus) -> bool:
        return await self._update_status(new, Slot.id == slot_id, Slot.status == expected) is not None

    async def add(self, slot: Slot) -> Slot:
        self.session.add(slot)
        await self.session.flush()
        return slot


class AppointmentRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert(self, appointment: Appointment) -> Appointment:
        """``insert_appointment`` of a new object's values; it stays detached, with its id set."""
        appointment.id = await insert_appointment(
            self.session, {name: getattr(appointment, name) for name in _APPOINTMENT_COLUMNS})
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
