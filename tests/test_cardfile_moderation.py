"""«Моя картотека» and the moderators (R2, R4, R24): people are added, checked by a moderator,
fixed and sent again when rejected, and removed — on a real database."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.booking import BookingService
from core.cardfile import CardFileService
from core.clock import FixedClock
from core.enums import ModerationStatus, OfferStatus, SlotStatus, WaitlistStatus
from core.errors import (
    AlreadyDecided,
    HasFutureAppointments,
    InvalidInput,
    NotAllowed,
    NotFound,
    OwnerCannotBeRemoved,
    PersonNotConfirmed,
)
from core.identity import Identity, Staff
from core.moderation import ModerationService
from core.notify import Kind
from core.rules import RuleDefaults
from core.waitlist import WaitlistService
from storage.db import Database
from storage.models import Offer, Patient
from tests import factories

STAFF = Staff(moderators=frozenset({900, 902}), operators=frozenset({901}))
MODERATOR, SECOND_MODERATOR = factories.staff_member(900, STAFF), factories.staff_member(902, STAFF)


def card_file(db: Database, clock: FixedClock) -> CardFileService:
    return CardFileService(db, clock, STAFF)


def booking(db: Database, clock: FixedClock) -> BookingService:
    return BookingService(db, clock)


async def newcomer(db: Database, clock: FixedClock, telegram_id: int = 7) -> Identity:
    """Logged in by e-mail, card file still empty."""
    return await factories.email_login(db, clock, telegram_id, f"user{telegram_id}@mail.ru", staff=STAFF)


async def owner_under_review(db: Database, clock: FixedClock, telegram_id: int = 7) -> tuple[Identity, Patient]:
    identity = await newcomer(db, clock, telegram_id)
    return identity, await card_file(db, clock).submit(identity, factories.person(), as_owner=True)


async def status_of(db: Database, patient_id: int) -> ModerationStatus:
    async with db.read() as uow:
        patient = await uow.patients.get(patient_id)
    assert patient is not None
    return patient.status


async def kinds(db: Database, chat_id: int) -> list[str]:
    return [m.kind for m in await factories.outbox(db, chat_id)]


async def test_owner_added_after_email_login_waits_for_a_moderator(db: Database, clock: FixedClock) -> None:
    """R2, R4, R24: the owner's data goes to every moderator; until one confirms, booking is refused."""
    identity = await newcomer(db, clock)
    anna = await card_file(db, clock).submit(identity, factories.person(snils="11223344595"), as_owner=True)

    assert anna.is_owner and anna.status == ModerationStatus.PENDING
    requests = [m for m in await factories.outbox(db) if m.kind == Kind.MODERATION_REQUEST]
    assert sorted(m.chat_id for m in requests) == [900, 902]
    assert all(m.payload["patient_id"] == anna.id and m.payload["resubmitted"] is False for m in requests)
    assert all(m.payload["oms_policy"] == "7700000011112222" for m in requests)
    assert [p.id for p in await card_file(db, clock).people(identity)] == [anna.id]
    with pytest.raises(PersonNotConfirmed) as info:
        await booking(db, clock).check_patient(identity, anna.id)
    assert info.value.status == ModerationStatus.PENDING


async def test_only_a_moderator_decides_and_the_account_is_told(db: Database, clock: FixedClock) -> None:
    """R2, R24: a patient pressing a forged «Подтвердить» changes nothing; a moderator's confirmation lets
    the person book, and the decision is sent to the account's chat."""
    identity, anna = await owner_under_review(db, clock)
    moderation = ModerationService(db, clock)
    with pytest.raises(NotAllowed):
        await moderation.pending(identity)
    with pytest.raises(NotAllowed):
        await moderation.confirm(identity, anna.id)
    with pytest.raises(NotAllowed):
        await moderation.reject(identity, anna.id, "Не нравится")
    assert await status_of(db, anna.id) == ModerationStatus.PENDING
    assert Kind.MODERATION_RESULT not in await kinds(db, 7)
    assert [p.id for p in await moderation.pending(MODERATOR)] == [anna.id]

    decided = await moderation.confirm(MODERATOR, anna.id)

    assert decided.status == ModerationStatus.CONFIRMED and decided.decided_by == 900
    (result,) = [m for m in await factories.outbox(db, 7) if m.kind == Kind.MODERATION_RESULT]
    assert result.payload["patient_id"] == anna.id and result.payload["confirmed"] is True
    assert await moderation.pending(MODERATOR) == []
    assert (await booking(db, clock).check_patient(identity, anna.id)).id == anna.id


async def test_two_moderators_deciding_at_once_the_first_wins(db: Database, clock: FixedClock) -> None:
    """R24: one confirms while another rejects: one decision stands, the other moderator is told it was
    already decided, the account gets one answer."""
    _, anna = await owner_under_review(db, clock)
    moderation = ModerationService(db, clock)
    results = await asyncio.gather(moderation.confirm(MODERATOR, anna.id),
                                   moderation.reject(SECOND_MODERATOR, anna.id, "Опечатка в полисе"),
                                   return_exceptions=True)
    winners = [r for r in results if isinstance(r, Patient)]
    losers = [r for r in results if isinstance(r, AlreadyDecided)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert losers[0].status == winners[0].status == await status_of(db, anna.id)
    assert (await kinds(db, 7)).count(Kind.MODERATION_RESULT) == 1


async def test_a_rejected_person_fixes_the_data_and_sends_it_again(db: Database, clock: FixedClock) -> None:
    """R2: a rejection needs a reason (an empty or endless one is refused and changes nothing); the reason
    reaches the account and is shown when booking is refused; the fixed data goes back to the moderators
    as a new request. Only rejected data can be sent again: not while under review, not once confirmed,
    and never another account's person."""
    identity, anna = await owner_under_review(db, clock)
    moderation = ModerationService(db, clock)
    cards = card_file(db, clock)
    with pytest.raises(NotAllowed):
        await cards.resubmit(identity, anna.id, factories.person(last_name="Другая"))
    with pytest.raises(InvalidInput) as info:
        await moderation.reject(MODERATOR, anna.id, "  \n ")
    assert (info.value.field, info.value.reason) == ("reason", "empty")
    with pytest.raises(InvalidInput) as info:
        await moderation.reject(MODERATOR, anna.id, "слово " * 100)
    assert info.value.reason == "too_long"
    assert await status_of(db, anna.id) == ModerationStatus.PENDING
    assert Kind.MODERATION_RESULT not in await kinds(db, 7)

    await moderation.reject(MODERATOR, anna.id, "  Полис не найден   в ТФОМС ")
    (result,) = [m for m in await factories.outbox(db, 7) if m.kind == Kind.MODERATION_RESULT]
    assert result.payload["confirmed"] is False and result.payload["reason"] == "Полис не найден в ТФОМС"
    with pytest.raises(PersonNotConfirmed) as info:
        await booking(db, clock).check_patient(identity, anna.id)
    assert (info.value.status, info.value.reason) == (ModerationStatus.REJECTED, "Полис не найден в ТФОМС")

    clock.advance(timedelta(hours=1))
    fixed = await cards.resubmit(identity, anna.id, factories.person(oms_policy="7700000011113333"))

    assert fixed.id == anna.id
    assert (fixed.status, fixed.rejection_reason) == (ModerationStatus.PENDING, None)
    assert fixed.oms_policy == "7700000011113333"
    assert fixed.submitted_at == clock.now() and fixed.decided_at is None
    again = [m for m in await factories.outbox(db, 900) if m.kind == Kind.MODERATION_REQUEST]
    assert [m.payload["resubmitted"] for m in again] == [False, True]
    assert again[-1].payload["oms_policy"] == "7700000011113333"
    assert [p.id for p in await moderation.pending(MODERATOR)] == [anna.id]

    await moderation.confirm(MODERATOR, anna.id)
    with pytest.raises(NotAllowed):
        await cards.resubmit(identity, anna.id, factories.person(last_name="Другая"))
    stranger = await newcomer(db, clock, 8)
    with pytest.raises(NotFound):
        await cards.resubmit(stranger, anna.id, factories.person(last_name="Другая"))
    async with db.read() as uow:
        stored = await uow.patients.get(anna.id)
    assert stored is not None and (stored.last_name, stored.status) == ("Смирнова", ModerationStatus.CONFIRMED)


async def test_the_owner_comes_first_and_only_once(db: Database, clock: FixedClock) -> None:
    """R4: family members join a card file that has its owner; there is one owner."""
    identity = await newcomer(db, clock)
    cards = card_file(db, clock)
    with pytest.raises(NotAllowed):
        await cards.submit(identity, factories.person(first_name="Маша"), as_owner=False)
    await cards.submit(identity, factories.person(), as_owner=True)
    with pytest.raises(NotAllowed):
        await cards.submit(identity, factories.person(first_name="Вера"), as_owner=True)
    masha = await cards.submit(identity, factories.person(first_name="Маша", oms_policy="7700000099990000"),
                               as_owner=False)
    assert not masha.is_owner and masha.status == ModerationStatus.PENDING
    assert [(p.first_name, p.is_owner) for p in await cards.people(identity)] == [("Ольга", True), ("Маша", False)]


async def test_a_double_tap_on_send_adds_one_owner(request: pytest.FixtureRequest, db: Database,
                                                   clock: FixedClock) -> None:
    """R4: the owner's form sent several times at once (taps, a slow network) makes one owner."""
    identity = await newcomer(db, clock)
    cards = card_file(db, clock)
    await factories.ready_connections(db, 6)
    results = await asyncio.gather(*(cards.submit(identity, factories.person(), as_owner=True) for _ in range(6)),
                                   return_exceptions=True)
    assert sum(isinstance(r, Patient) for r in results) == 1
    assert all(isinstance(r, NotAllowed) for r in results if not isinstance(r, Patient)), results
    async with db.read() as uow:
        owners = await uow.session.scalar(select(func.count()).select_from(Patient).where(Patient.is_owner.is_(True)))
    assert owners == 1


async def test_who_can_be_removed_from_the_card_file(db: Database, clock: FixedClock) -> None:
    """R4, R16: not the owner; not someone with a visit ahead; not another account's person."""
    _, (doctor,) = await factories.clinic(db)
    (slot,) = await factories.slots(db, doctor, clock.now() + timedelta(days=2), 1)
    identity, (anna, masha, oleg) = await factories.account(db, 7, clock.now(), people=3)
    stranger, (stranger_owner,) = await factories.account(db, 8, clock.now())
    await booking(db, clock).book(identity, masha.id, slot.id)
    cards = card_file(db, clock)

    with pytest.raises(OwnerCannotBeRemoved):
        await cards.remove(identity, anna.id)
    with pytest.raises(HasFutureAppointments):
        await cards.remove(identity, masha.id)
    with pytest.raises(NotFound):
        await cards.remove(stranger, oleg.id)
    with pytest.raises(NotFound):
        await cards.remove(identity, stranger_owner.id)
    assert [p.id for p in await cards.people(identity)] == [anna.id, masha.id, oleg.id]

    await cards.remove(identity, oleg.id)
    assert [p.id for p in await cards.people(identity)] == [anna.id, masha.id]
    with pytest.raises(NotFound):
        await cards.person(identity, oleg.id)
    with pytest.raises(NotFound):
        await cards.remove(identity, oleg.id)

    clock.advance(timedelta(days=3))  # Masha's visit is behind her now
    await cards.remove(identity, masha.id)
    assert [p.id for p in await cards.people(identity)] == [anna.id]


async def test_removing_a_person_with_an_offer_passes_the_held_time_on(db: Database, clock: FixedClock) -> None:
    """R4, R10, R14: a queued person removed while time is held for them leaves the queue, the offer is
    void, and the time goes to the next patient in line at once."""
    _, (doctor,) = await factories.clinic(db, waitlist=True)
    (slot,) = await factories.slots(db, doctor, clock.now() + timedelta(days=3), 1)
    booker, (boris,) = await factories.account(db, 500, clock.now())
    bookings = BookingService(db, clock)
    waitlist = WaitlistService(db, clock, 14, RuleDefaults())
    view = await bookings.book(booker, boris.id, slot.id)
    identity, (_, masha) = await factories.account(db, 7, clock.now(), people=2)
    olga, (olga_p,) = await factories.account(db, 8, clock.now())
    masha_entry = await waitlist.join(identity, masha.id, doctor.id, any_doctor=False)
    clock.advance(timedelta(seconds=1))
    olga_entry = await waitlist.join(olga, olga_p.id, doctor.id, any_doctor=False)
    await bookings.cancel(booker, view.id)
    async with db.read() as uow:
        (offer,) = await uow.waitlist.pending_offers_of_entries([masha_entry.entry_id])
    assert offer.slot_id == slot.id

    await card_file(db, clock).remove(identity, masha.id)

    async with db.read() as uow:
        entry = await uow.waitlist.entry(masha_entry.entry_id)
        voided = await uow.waitlist.offer(offer.id)
        (passed_on,) = await uow.waitlist.pending_offers_of_entries([olga_entry.entry_id])
        held = await uow.slots.get(slot.id)
        pending = list(await uow.session.scalars(select(Offer).where(Offer.status == OfferStatus.PENDING)))
    assert entry is not None and entry.status == WaitlistStatus.LEFT
    assert voided is not None and voided.status == OfferStatus.VOID
    assert passed_on.slot_id == slot.id and [o.id for o in pending] == [passed_on.id]
    assert held is not None and held.status == SlotStatus.HELD
    assert Kind.OFFER in await kinds(db, 8)


async def test_the_owner_must_leave_a_phone_a_relative_need_not(db: Database, clock: FixedClock) -> None:
    """R4: the registry calls the owner; nothing is stored without the phone. A family member may skip it."""
    identity = await newcomer(db, clock)
    with pytest.raises(InvalidInput) as info:
        await card_file(db, clock).submit(identity, factories.person(phone=None), as_owner=True)
    assert (info.value.field, info.value.reason) == ("phone", "required")
    assert await card_file(db, clock).people(identity) == []
    await card_file(db, clock).submit(identity, factories.person(), as_owner=True)
    relative = await card_file(db, clock).submit(identity, factories.person(first_name="Миша", phone=None),
                                                 as_owner=False)
    assert relative.phone is None


async def test_the_other_moderators_are_told_it_was_handled(db: Database, clock: FixedClock) -> None:
    """R24: the first decision wins and every other moderator is told, so nobody opens it again."""
    _, anna = await owner_under_review(db, clock)
    await ModerationService(db, clock, STAFF).confirm(factories.staff_member(900, STAFF), anna.id)
    handled = [m for m in await factories.outbox(db) if m.kind == Kind.MODERATION_HANDLED]
    assert [(m.chat_id, m.payload["confirmed"]) for m in handled] == [(902, True)]
