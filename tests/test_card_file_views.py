"""Booking reads the card file and the rules as they are now (R2, R5, R25): a moderator's decision, a
person added or removed, an operator's new cutoff show on the next screen, and a person changed
between two screens cannot be booked for."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from sqlalchemy import func, select, update

from core.access import AccessService
from core.booking import BookingService
from core.cardfile import CardFileService
from core.clock import FixedClock
from core.cutoff import cancel_deadline
from core.enums import ModerationStatus
from core.errors import NotFound, NotLoggedIn, PersonNotConfirmed
from core.identity import Identity
from core.moderation import ModerationService
from core.rules import RuleDefaults, RulesService
from storage.db import Database
from storage.models import Appointment, Patient
from tests import factories


def services(db: Database, clock: FixedClock) -> tuple[BookingService, CardFileService]:
    return BookingService(db, clock), CardFileService(db, clock, factories.STAFF)


async def appointments(db: Database) -> int:
    async with db.read() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(Appointment)) or 0)


async def test_moderators_confirmation_lets_the_patient_book_at_once(db: Database, clock: FixedClock) -> None:
    booking, card_file = services(db, clock)
    identity = await factories.email_login(db, clock, 7, "user7@mail.ru")
    anna = await card_file.submit(identity, factories.person(), as_owner=True)
    with pytest.raises(PersonNotConfirmed):
        await booking.start(identity)  # the pending person is now in memory
    await ModerationService(db, clock, factories.STAFF).confirm(factories.staff_member(900), anna.id)
    _, chosen = await booking.start(identity)
    assert chosen is not None and chosen.id == anna.id and chosen.status == ModerationStatus.CONFIRMED


async def test_people_added_and_removed_here_show_at_once(db: Database, clock: FixedClock) -> None:
    booking, card_file = services(db, clock)
    identity, (owner,) = await factories.account(db, 1, clock.now())
    assert [p.id for p in await booking.bookable_people(identity)] == [owner.id]
    son = await card_file.submit(identity, factories.person(first_name="Олег", phone=None), as_owner=False)
    assert [p.id for p in await booking.bookable_people(identity)] == [owner.id, son.id]
    await card_file.remove(identity, son.id)
    assert [p.id for p in await booking.bookable_people(identity)] == [owner.id]


@pytest.mark.parametrize("change", ["rejected", "removed"])
async def test_person_changed_elsewhere_cannot_be_booked(db: Database, clock: FixedClock, change: str) -> None:
    """R2: the summary said «confirmed»; the booking reads the row again and refuses."""
    _, (doctor,) = await factories.clinic(db)
    (slot,) = await factories.slots(db, doctor, clock.now() + timedelta(days=2), 1)
    booking, _ = services(db, clock)
    identity, (anna,) = await factories.account(db, 1, clock.now())
    await booking.preview(identity, anna.id, slot.id)  # the summary before «Подтвердить»: confirmed
    values = ({"status": ModerationStatus.REJECTED, "rejection_reason": "Неверный полис"} if change == "rejected"
              else {"removed_at": clock.now()})
    async with db.write() as uow:  # a moderator or another instance, between the two screens
        await uow.session.execute(update(Patient).where(Patient.id == anna.id).values(**values))
        await uow.commit()
    with pytest.raises(PersonNotConfirmed if change == "rejected" else NotFound):
        await booking.book(identity, anna.id, slot.id)
    assert await appointments(db) == 0


async def test_operators_new_cutoff_is_printed_on_the_next_booking(db: Database, clock: FixedClock) -> None:
    """R25: the change takes effect at once, on what is shown too."""
    org, (doctor,) = await factories.clinic(db)
    first, second = await factories.slots(db, doctor, clock.now() + timedelta(days=2), 2)
    booking, _ = services(db, clock)
    operator = RulesService(db, clock, RuleDefaults())
    anna_id, (anna,) = await factories.account(db, 1, clock.now())
    boris_id, (boris,) = await factories.account(db, 2, clock.now())
    before = await booking.book(anna_id, anna.id, first.id)
    assert before.cancel_deadline == cancel_deadline(first.starts_at, org.timezone, time(18, 0))
    await operator.set_cancel_cutoff(factories.staff_member(901), "12:00")
    after = await booking.book(boris_id, boris.id, second.id)
    assert after.cancel_deadline == cancel_deadline(second.starts_at, org.timezone, time(12, 0))


async def test_nothing_of_the_card_file_is_read_without_consent_to_the_current_policy(
        db: Database, clock: FixedClock) -> None:
    """152-FZ: after the policy changes, the user is logged in to nothing until they accept it again."""
    identity, _ = await factories.account(db, 1, clock.now())
    access = AccessService(db, clock, factories.STAFF, "a newer policy")
    who = await access.identify(identity.telegram_id, identity.chat_id)
    assert not who.consented and who.account_id is None
    with pytest.raises(NotLoggedIn):
        await BookingService(db, clock).start(who)
    assert await AccessService(db, clock, factories.STAFF, "unknown user").identify(999, 999) == Identity(999, 999)
