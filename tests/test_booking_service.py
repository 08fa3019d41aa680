"""Booking and cancelling through the core services on a real database (SQLite file and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.booking import BookingService
from core.clock import FixedClock
from core.enums import AppointmentSource, AppointmentStatus, ModerationStatus, SlotStatus
from core.errors import (
    BeyondHorizon,
    CutoffPassed,
    NotFound,
    OnePerDoctor,
    PersonNotConfirmed,
    SlotInPast,
    SlotTaken,
)
from storage.db import Database
from storage.models import Appointment, AuditEntry, Slot
from tests import factories


def service(db: Database, clock: FixedClock) -> BookingService:
    return BookingService(db, clock)


async def test_one_slot_many_patients_exactly_one_wins(db: Database, clock: FixedClock) -> None:
    """R7: twenty patients confirm the same time at once; one appointment, nineteen SlotTaken."""
    _, (doctor,) = await factories.clinic(db)
    (slot,) = await factories.slots(db, doctor, clock.now() + timedelta(days=2), 1)
    booking = service(db, clock)
    people = [await factories.account(db, 1000 + i, clock.now()) for i in range(20)]
    results = await asyncio.gather(
        *(booking.book(identity, patients[0].id, slot.id) for identity, patients in people),
        return_exceptions=True)
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert sum(isinstance(r, SlotTaken) for r in results) == 19
    async with db.read() as uow:
        count = await uow.session.scalar(select(func.count()).select_from(Appointment))
        status = await uow.session.scalar(select(Slot.status).where(Slot.id == slot.id))
    assert count == 1
    assert status == SlotStatus.BOOKED


async def test_double_tap_books_once(db: Database, clock: FixedClock) -> None:
    """R7: the same patient pressing «Подтвердить» twice gets one appointment."""
    _, (doctor,) = await factories.clinic(db)
    (slot,) = await factories.slots(db, doctor, clock.now() + timedelta(days=2), 1)
    identity, (anna,) = await factories.account(db, 1, clock.now())
    booking = service(db, clock)
    first, second = await asyncio.gather(booking.book(identity, anna.id, slot.id),
                                         booking.book(identity, anna.id, slot.id))
    # Issue 17: the second press learns the effect of the first, not a refusal about it.
    assert first.id == second.id and second.status == AppointmentStatus.ACTIVE
    async with db.read() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Appointment)) == 1


async def test_a_repeated_confirm_answers_with_the_booking_held(db: Database, clock: FixedClock) -> None:
    """Issue 17: «Подтвердить» pressed again (after a restart, a redelivered update) finds the booking
    committed and answers with it; another person of the account is still refused the taken time."""
    _, (doctor,) = await factories.clinic(db)
    (slot,) = await factories.slots(db, doctor, clock.now() + timedelta(days=2), 1)
    identity, (anna, maria) = await factories.account(db, 1, clock.now(), people=2)
    booking = service(db, clock)
    view = await booking.book(identity, anna.id, slot.id)
    again = await booking.book(identity, anna.id, slot.id)
    assert (again.id, again.starts_at, again.patient_id, again.doctor) == (
        view.id, view.starts_at, anna.id, view.doctor)
    assert again.cancel_deadline == view.cancel_deadline
    with pytest.raises(SlotTaken):
        await booking.book(identity, maria.id, slot.id)
    async with db.read() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Appointment)) == 1
        booked = await uow.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "appointment.booked"))
    assert booked == 1  # the repeat changed nothing


async def test_a_repeated_cancel_answers_cancelled(db: Database, clock: FixedClock) -> None:
    """Issue 17: «Ок» pressed again on an appointment this account already cancelled says it is cancelled,
    even once the cutoff has passed; one cancellation is recorded."""
    _, (doctor,) = await factories.clinic(db)
    (slot,) = await factories.slots(db, doctor, clock.now() + timedelta(days=3), 1)
    identity, (anna,) = await factories.account(db, 1, clock.now())
    booking = service(db, clock)
    view = await booking.book(identity, anna.id, slot.id)
    first = await booking.cancel(identity, view.id)
    again = await booking.cancel(identity, view.id)
    assert first.status == again.status == AppointmentStatus.CANCELLED and again.id == view.id
    clock.set(view.starts_at - timedelta(hours=1))
    assert (await booking.cancel(identity, view.id)).status == AppointmentStatus.CANCELLED
    async with db.read() as uow:
        cancelled = await uow.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "appointment.cancelled"))
    assert cancelled == 1


async def test_two_times_of_one_doctor_at_once_book_one(db: Database, clock: FixedClock) -> None:
    """One visit per doctor holds under concurrency too: two devices, two different times, one booking."""
    _, (doctor,) = await factories.clinic(db)
    slots = await factories.slots(db, doctor, clock.now() + timedelta(days=2), 4)
    identity, (anna,) = await factories.account(db, 1, clock.now())
    booking = service(db, clock)
    results = await asyncio.gather(*(booking.book(identity, anna.id, s.id) for s in slots), return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["AppointmentView"] + ["OnePerDoctor"] * 3


async def test_one_future_appointment_per_doctor(db: Database, clock: FixedClock) -> None:
    _, (doctor,) = await factories.clinic(db)
    a, b = await factories.slots(db, doctor, clock.now() + timedelta(days=2), 2)
    identity, (anna,) = await factories.account(db, 1, clock.now())
    booking = service(db, clock)
    await booking.book(identity, anna.id, a.id)
    with pytest.raises(OnePerDoctor):
        await booking.book(identity, anna.id, b.id)


async def test_unconfirmed_person_cannot_book(db: Database, clock: FixedClock) -> None:
    """R2: while the data is under review, booking is refused and says why."""
    _, (doctor,) = await factories.clinic(db)
    (slot,) = await factories.slots(db, doctor, clock.now() + timedelta(days=2), 1)
    identity, (anna,) = await factories.account(db, 1, clock.now(), status=ModerationStatus.PENDING)
    with pytest.raises(PersonNotConfirmed) as info:
        await service(db, clock).book(identity, anna.id, slot.id)
    assert info.value.status == ModerationStatus.PENDING


async def test_forged_patient_id_of_another_account(db: Database, clock: FixedClock) -> None:
    """Callback data is client input: another account's person is «not found», nothing is booked."""
    _, (doctor,) = await factories.clinic(db)
    (slot,) = await factories.slots(db, doctor, clock.now() + timedelta(days=2), 1)
    mallory, _ = await factories.account(db, 1, clock.now())
    _, (victim,) = await factories.account(db, 2, clock.now())
    with pytest.raises(NotFound):
        await service(db, clock).book(mallory, victim.id, slot.id)
    async with db.read() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Appointment)) == 0


async def test_past_held_and_far_slots_are_refused(db: Database, clock: FixedClock) -> None:
    _, (doctor,) = await factories.clinic(db)
    (past,) = await factories.slots(db, doctor, clock.now() - timedelta(hours=1), 1)
    (held,) = await factories.slots(db, doctor, clock.now() + timedelta(days=1), 1, status=SlotStatus.HELD)
    (far,) = await factories.slots(db, doctor, clock.now() + timedelta(days=20), 1)
    identity, (anna,) = await factories.account(db, 1, clock.now())
    booking = service(db, clock)
    with pytest.raises(SlotInPast):
        await booking.book(identity, anna.id, past.id)
    with pytest.raises(SlotTaken):
        await booking.book(identity, anna.id, held.id)
    with pytest.raises(BeyondHorizon):
        await booking.book(identity, anna.id, far.id)


async def test_cancel_before_cutoff_frees_the_slot(db: Database, clock: FixedClock) -> None:
    """R17, R18: before 18:00 the day before (clinic time) the appointment is cancelled, the slot is free."""
    _, (doctor,) = await factories.clinic(db, timezone="Europe/Moscow")
    # Wednesday 2 Dec 2026, 10:00 Moscow = 07:00 UTC; cutoff Tuesday 18:00 Moscow = 15:00 UTC.
    (slot,) = await factories.slots(db, doctor, clock.now().replace(day=2, month=12, hour=7), 1)
    identity, (anna,) = await factories.account(db, 1, clock.now())
    booking = service(db, clock)
    view = await booking.book(identity, anna.id, slot.id)
    clock.set(clock.now().replace(day=1, month=12, hour=14, minute=59))
    cancelled = await booking.cancel(identity, view.id)
    assert cancelled.status == AppointmentStatus.CANCELLED
    async with db.read() as uow:
        assert (await uow.slots.get(slot.id)).status == SlotStatus.FREE  # type: ignore[union-attr]


async def test_cancel_after_cutoff_is_refused_with_the_reason(db: Database, clock: FixedClock) -> None:
    """R17: after the cutoff the registry has its lists; refused, the phone to call is given."""
    _, (doctor,) = await factories.clinic(db, timezone="Asia/Yekaterinburg")
    # Wednesday 2 Dec 2026 09:00 Yekaterinburg (UTC+5) = 04:00 UTC; cutoff Tue 18:00 there = 13:00 UTC.
    (slot,) = await factories.slots(db, doctor, clock.now().replace(day=2, month=12, hour=4), 1)
    identity, (anna,) = await factories.account(db, 1, clock.now())
    booking = service(db, clock)
    view = await booking.book(identity, anna.id, slot.id)
    clock.set(clock.now().replace(day=1, month=12, hour=13, minute=0))
    with pytest.raises(CutoffPassed) as info:
        await booking.cancel(identity, view.id)
    assert info.value.phone == "+7 800 000-00-00"
    async with db.read() as uow:
        assert (await uow.appointments.get(view.id)).status == AppointmentStatus.ACTIVE  # type: ignore[union-attr]


async def test_cannot_cancel_another_accounts_appointment(db: Database, clock: FixedClock) -> None:
    """R16: a forged appointment id from another account changes nothing."""
    _, (doctor,) = await factories.clinic(db)
    (slot,) = await factories.slots(db, doctor, clock.now() + timedelta(days=3), 1)
    owner, (anna,) = await factories.account(db, 1, clock.now())
    mallory, _ = await factories.account(db, 2, clock.now())
    booking = service(db, clock)
    view = await booking.book(owner, anna.id, slot.id)
    with pytest.raises(NotFound):
        await booking.cancel(mallory, view.id)
    async with db.read() as uow:
        assert (await uow.appointments.get(view.id)).status == AppointmentStatus.ACTIVE  # type: ignore[union-attr]


async def test_a_booking_is_audited_and_its_row_is_whole(db: Database, clock: FixedClock) -> None:
    """The appointment row and its audit entry are written together at the commit; a refused
    booking leaves neither (R7, audit by ids only)."""
    _, (doctor,) = await factories.clinic(db)
    (slot,) = await factories.slots(db, doctor, clock.now() + timedelta(days=2), 1)
    anna_identity, (anna,) = await factories.account(db, 1, clock.now())
    boris_identity, (boris,) = await factories.account(db, 2, clock.now())
    booking = service(db, clock)
    view = await booking.book(anna_identity, anna.id, slot.id)
    with pytest.raises(SlotTaken):
        await booking.book(boris_identity, boris.id, slot.id)
    async with db.read() as uow:
        stored = await uow.session.get(Appointment, view.id)
        audit = list(await uow.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert stored is not None
    assert (stored.slot_id, stored.doctor_id, stored.starts_at, stored.patient_id, stored.made_by_account_id) == (
        slot.id, doctor.id, slot.starts_at, anna.id, anna_identity.account_id)
    assert (stored.source, stored.status, stored.created_at) == (AppointmentSource.PORTAL, AppointmentStatus.ACTIVE,
                                                                 clock.now())
    assert (stored.patient_oms, stored.patient_snils) == (anna.oms_policy, anna.snils)  # R22
    assert [(a.action, a.actor_telegram_id, a.account_id, a.subject) for a in audit] == [
        ("appointment.booked", anna_identity.telegram_id, anna_identity.account_id, f"appointment:{view.id}")]
