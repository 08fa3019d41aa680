"""The waitlist through the core services on a real database (R8–R15)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.access import AccessService
from core.booking import BookingService
from core.clock import FixedClock
from core.enums import OfferStatus, SlotStatus, WaitlistStatus
from core.errors import AlreadyQueued, FreeTimeExists, NotFound, OfferGone, OnePerDoctor, SlotTaken, WaitlistClosed
from core.identity import Identity
from core.notify import Kind
from core.rules import RuleDefaults
from core.visits import VisitsService
from core.waitlist import WaitlistService
from storage.db import Database
from storage.models import Appointment, Doctor, Offer, OutboxMessage, Slot
from tests import factories


def services(db: Database, clock: FixedClock) -> tuple[WaitlistService, BookingService]:
    return (WaitlistService(db, clock, 14, RuleDefaults(offer_minutes=120)),
            BookingService(db, clock))


async def booked_doctor(db: Database, clock: FixedClock, *, waitlist: bool = True, doctors: int = 1,
                        booker_id: int = 500) -> tuple[list[Doctor], Identity, int, Slot]:
    """A doctor whose only time is booked by a first patient; returns the booker and their appointment slot."""
    _, docs = await factories.clinic(db, waitlist=waitlist, doctors=doctors)
    (slot,) = await factories.slots(db, docs[0], clock.now() + timedelta(days=3), 1)
    booker, (boris,) = await factories.account(db, booker_id, clock.now())
    _, booking = services(db, clock)
    view = await booking.book(booker, boris.id, slot.id)
    return docs, booker, view.id, slot


async def outbox_kinds(db: Database, chat_id: int) -> list[str]:
    async with db.read() as uow:
        rows = await uow.session.scalars(
            select(OutboxMessage.kind).where(OutboxMessage.chat_id == chat_id).order_by(OutboxMessage.id))
        return list(rows)


async def pending_offer(db: Database) -> Offer | None:
    async with db.read() as uow:
        return await uow.session.scalar(select(Offer).where(Offer.status == OfferStatus.PENDING))


async def test_cancellation_offers_the_slot_to_the_first_in_queue(db: Database, clock: FixedClock) -> None:
    """R10: a cancellation holds the slot for the first queued patient and queues the offer message."""
    (doctor,), booker, appointment_id, slot = await booked_doctor(db, clock)
    waitlist, booking = services(db, clock)
    anna, (anna_p,) = await factories.account(db, 1, clock.now())
    olga, (olga_p,) = await factories.account(db, 2, clock.now())
    first = await waitlist.join(anna, anna_p.id, doctor.id, any_doctor=False)
    clock.advance(timedelta(seconds=1))
    second = await waitlist.join(olga, olga_p.id, doctor.id, any_doctor=False)
    assert (first.position, second.position) == (1, 2)

    await booking.cancel(booker, appointment_id)

    offer = await pending_offer(db)
    assert offer is not None
    async with db.read() as uow:
        assert (await uow.slots.get(slot.id)).status == SlotStatus.HELD  # type: ignore[union-attr]
        assert (await uow.waitlist.entry(offer.entry_id)).patient_id == anna_p.id  # type: ignore[union-attr]
    assert offer.expires_at == clock.now() + timedelta(minutes=120)
    assert await outbox_kinds(db, 1) == [Kind.OFFER]
    assert await outbox_kinds(db, 2) == []
    # The held slot is nobody else's to book.
    with pytest.raises(SlotTaken):
        await booking.book(olga, olga_p.id, slot.id)


async def test_confirm_books_and_ends_the_entry(db: Database, clock: FixedClock) -> None:
    """R11: confirming books the held slot and closes the queue entry; a second confirm changes nothing."""
    (doctor,), booker, appointment_id, slot = await booked_doctor(db, clock)
    waitlist, booking = services(db, clock)
    anna, (anna_p,) = await factories.account(db, 1, clock.now())
    joined = await waitlist.join(anna, anna_p.id, doctor.id, any_doctor=False)
    await booking.cancel(booker, appointment_id)
    offer = await pending_offer(db)
    assert offer is not None
    results = await asyncio.gather(waitlist.confirm(anna, offer.id), waitlist.confirm(anna, offer.id),
                                   return_exceptions=True)
    assert sum(isinstance(r, Appointment) for r in results) == 1
    # The loser sees the offer gone, or (if the winner committed first) its own new appointment.
    assert sum(isinstance(r, OfferGone | OnePerDoctor) for r in results) == 1
    async with db.read() as uow:
        assert (await uow.slots.get(slot.id)).status == SlotStatus.BOOKED  # type: ignore[union-attr]
        assert (await uow.waitlist.entry(joined.entry_id)).status == WaitlistStatus.BOOKED  # type: ignore[union-attr]


async def test_someone_elses_offer_cannot_be_confirmed(db: Database, clock: FixedClock) -> None:
    (doctor,), booker, appointment_id, _ = await booked_doctor(db, clock)
    waitlist, booking = services(db, clock)
    anna, (anna_p,) = await factories.account(db, 1, clock.now())
    mallory, _ = await factories.account(db, 2, clock.now())
    await waitlist.join(anna, anna_p.id, doctor.id, any_doctor=False)
    await booking.cancel(booker, appointment_id)
    offer = await pending_offer(db)
    assert offer is not None
    with pytest.raises(NotFound):
        await waitlist.confirm(mallory, offer.id)
    with pytest.raises(NotFound):
        await waitlist.decline(mallory, offer.id)
    assert (await pending_offer(db)) is not None


async def test_decline_passes_the_slot_on_and_keeps_the_place(db: Database, clock: FixedClock) -> None:
    """R12: declining returns the patient to the queue in place; the slot goes to the next patient."""
    (doctor,), booker, appointment_id, _ = await booked_doctor(db, clock)
    waitlist, booking = services(db, clock)
    anna, (anna_p,) = await factories.account(db, 1, clock.now())
    olga, (olga_p,) = await factories.account(db, 2, clock.now())
    anna_entry = await waitlist.join(anna, anna_p.id, doctor.id, any_doctor=False)
    clock.advance(timedelta(seconds=1))
    await waitlist.join(olga, olga_p.id, doctor.id, any_doctor=False)
    await booking.cancel(booker, appointment_id)
    first = await pending_offer(db)
    assert first is not None
    outcome = await waitlist.decline(anna, first.id)
    assert (outcome.entry_closed, outcome.offers_left, outcome.position) == (False, 2, 1)
    second = await pending_offer(db)
    assert second is not None and second.entry_id != anna_entry.entry_id
    async with db.read() as uow:
        entry = await uow.waitlist.entry(anna_entry.entry_id)
        assert entry is not None and entry.status == WaitlistStatus.WAITING and entry.offers_used == 1
        assert await uow.waitlist.position(entry) == 1


async def test_three_declines_remove_from_queue(db: Database, clock: FixedClock) -> None:
    """R13: after the third declined offer the entry is closed; the patient is told why on the screen they
    pressed (``Outcome``), not a second time by a message."""
    (doctor,), _, _, _ = await booked_doctor(db, clock)
    waitlist, _ = services(db, clock)
    anna, (anna_p,) = await factories.account(db, 1, clock.now())
    joined = await waitlist.join(anna, anna_p.id, doctor.id, any_doctor=False)
    for day in range(3):
        await factories.slots(db, doctor, clock.now() + timedelta(days=4 + day), 1)
        made = await waitlist.reconcile()
        assert made == 1
        offer = await pending_offer(db)
        assert offer is not None
        outcome = await waitlist.decline(anna, offer.id)
    assert outcome.entry_closed and outcome.position is None
    async with db.read() as uow:
        assert (await uow.waitlist.entry(joined.entry_id)).status == WaitlistStatus.EXHAUSTED  # type: ignore[union-attr]
    assert await outbox_kinds(db, 1) == [Kind.OFFER] * 3


async def test_a_third_expired_offer_is_told_by_a_message(db: Database, clock: FixedClock) -> None:
    """R13, R15: nobody pressed anything, so a message says the patient left the queue, once; the first
    two lapses say the place kept."""
    (doctor,), _, _, _ = await booked_doctor(db, clock)
    waitlist, _ = services(db, clock)
    anna, (anna_p,) = await factories.account(db, 1, clock.now())
    joined = await waitlist.join(anna, anna_p.id, doctor.id, any_doctor=False)
    for day in range(3):
        await factories.slots(db, doctor, clock.now() + timedelta(days=4 + day), 1)
        assert await waitlist.reconcile() == 1
        clock.advance(timedelta(minutes=121))
        assert await waitlist.expire_due() == 1
    async with db.read() as uow:
        assert (await uow.waitlist.entry(joined.entry_id)).status == WaitlistStatus.EXHAUSTED  # type: ignore[union-attr]
        payloads = list(await uow.session.scalars(
            select(OutboxMessage.payload).where(OutboxMessage.kind == Kind.OFFER_LAPSED).order_by(OutboxMessage.id)))
    assert (await outbox_kinds(db, 1)).count(Kind.QUEUE_EXHAUSTED) == 1
    assert [(p["offers_left"], p["position"]) for p in payloads] == [(2, 1), (1, 1)]


async def test_expired_offer_counts_and_moves_on(db: Database, clock: FixedClock) -> None:
    """R15: an unanswered offer expires after the operator-set time; the next patient gets the slot."""
    (doctor,), booker, appointment_id, _ = await booked_doctor(db, clock)
    waitlist, booking = services(db, clock)
    anna, (anna_p,) = await factories.account(db, 1, clock.now())
    olga, (olga_p,) = await factories.account(db, 2, clock.now())
    await waitlist.join(anna, anna_p.id, doctor.id, any_doctor=False)
    clock.advance(timedelta(seconds=1))
    await waitlist.join(olga, olga_p.id, doctor.id, any_doctor=False)
    await booking.cancel(booker, appointment_id)
    first = await pending_offer(db)
    assert first is not None
    clock.advance(timedelta(minutes=119))
    assert await waitlist.expire_due() == 0
    clock.advance(timedelta(minutes=2))
    assert await waitlist.expire_due() == 1
    second = await pending_offer(db)
    assert second is not None and second.entry_id != first.entry_id
    assert Kind.OFFER_LAPSED in await outbox_kinds(db, 1)
    with pytest.raises(OfferGone):
        await waitlist.confirm(anna, first.id)


async def test_any_doctor_matches_another_doctor_of_the_specialty(db: Database, clock: FixedClock) -> None:
    """R9: «к любому врачу этой специальности» gets time freed at a colleague of the same organization."""
    (first_doc, second_doc), _, _, _ = await booked_doctor(db, clock, doctors=2)
    waitlist, _ = services(db, clock)
    anna, (anna_p,) = await factories.account(db, 1, clock.now())
    await waitlist.join(anna, anna_p.id, first_doc.id, any_doctor=True)
    await factories.slots(db, second_doc, clock.now() + timedelta(days=2), 1)
    assert await waitlist.reconcile() == 1
    offer = await pending_offer(db)
    assert offer is not None
    appointment = await waitlist.confirm(anna, offer.id)
    assert appointment.doctor_id == second_doc.id


async def test_join_rules(db: Database, clock: FixedClock) -> None:
    """R8: only without free time and only where the organization keeps a queue; one entry per target."""
    (doctor,), _, _, _ = await booked_doctor(db, clock)
    (closed_doc,), _, _, _ = await booked_doctor(db, clock, waitlist=False, booker_id=501)
    _, (free_doc,) = await factories.clinic(db)
    await factories.slots(db, free_doc, clock.now() + timedelta(days=1), 1)
    waitlist, _ = services(db, clock)
    anna, (anna_p,) = await factories.account(db, 1, clock.now())
    await waitlist.join(anna, anna_p.id, doctor.id, any_doctor=False)
    with pytest.raises(AlreadyQueued):
        await waitlist.join(anna, anna_p.id, doctor.id, any_doctor=False)
    with pytest.raises(WaitlistClosed):
        await waitlist.join(anna, anna_p.id, closed_doc.id, any_doctor=False)
    with pytest.raises(FreeTimeExists):
        await waitlist.join(anna, anna_p.id, free_doc.id, any_doctor=False)


async def test_leaving_with_a_pending_offer_passes_it_on(db: Database, clock: FixedClock) -> None:
    """R14: leaving the queue voids the pending offer and the slot goes to the next patient."""
    (doctor,), booker, appointment_id, _ = await booked_doctor(db, clock)
    waitlist, booking = services(db, clock)
    anna, (anna_p,) = await factories.account(db, 1, clock.now())
    olga, (olga_p,) = await factories.account(db, 2, clock.now())
    anna_entry = await waitlist.join(anna, anna_p.id, doctor.id, any_doctor=False)
    clock.advance(timedelta(seconds=1))
    await waitlist.join(olga, olga_p.id, doctor.id, any_doctor=False)
    await booking.cancel(booker, appointment_id)
    await waitlist.leave(anna, anna_entry.entry_id)
    offer = await pending_offer(db)
    assert offer is not None and offer.entry_id != anna_entry.entry_id
    async with db.read() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Offer)) == 2


async def test_blocked_bot_moves_the_offer_on_without_using_an_attempt(db: Database, clock: FixedClock) -> None:
    (doctor,), booker, appointment_id, _ = await booked_doctor(db, clock)
    waitlist, booking = services(db, clock)
    anna, (anna_p,) = await factories.account(db, 1, clock.now())
    olga, (olga_p,) = await factories.account(db, 2, clock.now())
    anna_entry = await waitlist.join(anna, anna_p.id, doctor.id, any_doctor=False)
    clock.advance(timedelta(seconds=1))
    await waitlist.join(olga, olga_p.id, doctor.id, any_doctor=False)
    await booking.cancel(booker, appointment_id)
    async with db.write() as uow:
        await uow.login.mark_unreachable(1, clock.now())
        await uow.commit()
    await waitlist.chat_unreachable(1)
    offer = await pending_offer(db)
    assert offer is not None and offer.entry_id != anna_entry.entry_id
    async with db.read() as uow:
        entry = await uow.waitlist.entry(anna_entry.entry_id)
        assert entry is not None and entry.status == WaitlistStatus.WAITING and entry.offers_used == 0


async def test_the_card_file_shows_the_place_in_the_queue(db: Database, clock: FixedClock) -> None:
    """R12, R14: each queue entry of the card file says where the person stands, as joining did."""
    (doctor,), _, _, _ = await booked_doctor(db, clock)
    waitlist, _ = services(db, clock)
    visits = VisitsService(db, clock)
    anna, (anna_p,) = await factories.account(db, 1, clock.now())
    olga, (olga_p,) = await factories.account(db, 2, clock.now())
    await waitlist.join(anna, anna_p.id, doctor.id, any_doctor=False)
    clock.advance(timedelta(seconds=1))
    joined = await waitlist.join(olga, olga_p.id, doctor.id, any_doctor=True)
    card = await visits.of_person(olga, olga_p.id)
    assert joined.position == 2
    assert [(q.entry_id, q.position) for q in card.queue] == [(joined.entry_id, 2)]
    assert (await visits.of_person(anna, anna_p.id)).queue[0].position == 1


async def blocked_then_freed(db: Database, clock: FixedClock) -> tuple[WaitlistService, Identity, int, Slot]:
    """Anna queues, her chat answers 403 on the offer of a cancelled time; nobody else queues, so the
    time stays free. Returns the waitlist, Anna, her entry and the freed slot."""
    (doctor,), booker, appointment_id, slot = await booked_doctor(db, clock)
    waitlist, booking = services(db, clock)
    anna, (anna_p,) = await factories.account(db, 1, clock.now())
    joined = await waitlist.join(anna, anna_p.id, doctor.id, any_doctor=False)
    await booking.cancel(booker, appointment_id)
    async with db.write() as uow:
        await uow.login.mark_unreachable(1, clock.now())
        await uow.commit()
    await waitlist.chat_unreachable(1)
    assert await pending_offer(db) is None
    return waitlist, anna, joined.entry_id, slot


async def test_a_patient_who_writes_again_after_a_403_gets_the_time_at_once(db: Database, clock: FixedClock) -> None:
    """R10: any update from a user whose chat answered 403 makes them reachable again, and the free time
    their entry was skipped for (or never saw: the void offer) is offered on that very update."""
    waitlist, anna, entry_id, slot = await blocked_then_freed(db, clock)
    access = AccessService(db, clock, factories.STAFF, factories.CONSENT, on_reachable_again=waitlist.reachable_again)
    identity = await access.identify(1, 1)

    assert identity.account_id == anna.account_id
    offer = await pending_offer(db)
    assert offer is not None and (offer.entry_id, offer.slot_id) == (entry_id, slot.id)
    assert await outbox_kinds(db, 1) == [Kind.OFFER, Kind.OFFER]  # the first met the 403
    async with db.read() as uow:
        user = await uow.login.user(1)
        assert user is not None and user.unreachable_at is None
    await access.identify(1, 1)  # the flag is clear: nothing more happens
    assert await outbox_kinds(db, 1) == [Kind.OFFER, Kind.OFFER]


async def test_a_user_without_consent_is_reachable_again_but_nothing_is_offered(db: Database,
                                                                                clock: FixedClock) -> None:
    """Nothing of an account is processed without consent to the policy in force (152-FZ)."""
    waitlist, _, _, _ = await blocked_then_freed(db, clock)
    access = AccessService(db, clock, factories.STAFF, "a-newer-policy", on_reachable_again=waitlist.reachable_again)
    identity = await access.identify(1, 1)
    assert identity.account_id is None
    assert await pending_offer(db) is None
    async with db.read() as uow:
        user = await uow.login.user(1)
        assert user is not None and user.unreachable_at is None
