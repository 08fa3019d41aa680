"""Booking's in-memory card files and rules (R2, R5, R25) never let a patient act on a stale picture.

This process's own changes (a moderator's decision, a person added or removed, an operator's
new cutoff) show at once; a change made elsewhere is caught by the booking's UPDATE.
"""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from sqlalchemy import event, func, select, update

from core.access import AccessService
from core.booking import BookingService
from core.cardfile import CardFileService
from core.clock import FixedClock
from core.cutoff import cancel_deadline
from core.enums import ModerationStatus
from core.errors import NotFound, PersonNotConfirmed
from core.identity import IdentityCache
from core.moderation import ModerationService
from core.rules import RulesService
from core.views import Views
from storage.db import Database
from storage.models import Appointment, Patient
from storage.repositories.login import who_is
from storage.snapshots import Person
from tests import factories


def services(db: Database, clock: FixedClock) -> tuple[Views, BookingService, CardFileService]:
    views = Views.of(db, clock)
    return views, BookingService(db, clock, views), CardFileService(db, clock, factories.STAFF)


async def appointments(db: Database) -> int:
    async with db.read() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(Appointment)) or 0)


async def test_moderators_confirmation_lets_the_patient_book_at_once(db: Database, clock: FixedClock) -> None:
    _, booking, card_file = services(db, clock)
    identity = await factories.email_login(db, clock, 7, "user7@mail.ru")
    anna = await card_file.submit(identity, factories.person(), as_owner=True)
    with pytest.raises(PersonNotConfirmed):
        await booking.start(identity)  # the pending person is now in memory
    await ModerationService(db, clock, factories.STAFF).confirm(factories.staff_member(900), anna.id)
    _, chosen = await booking.start(identity)
    assert chosen is not None and chosen.id == anna.id and chosen.status == ModerationStatus.CONFIRMED


async def test_people_added_and_removed_here_show_at_once(db: Database, clock: FixedClock) -> None:
    _, booking, card_file = services(db, clock)
    identity, (owner,) = await factories.account(db, 1, clock.now())
    assert [p.id for p in await booking.bookable_people(identity)] == [owner.id]
    son = await card_file.submit(identity, factories.person(first_name="Олег", phone=None), as_owner=False)
    assert [p.id for p in await booking.bookable_people(identity)] == [owner.id, son.id]
    await card_file.remove(identity, son.id)
    assert [p.id for p in await booking.bookable_people(identity)] == [owner.id]


@pytest.mark.parametrize("change", ["rejected", "removed"])
async def test_person_changed_elsewhere_cannot_be_booked(db: Database, clock: FixedClock, change: str) -> None:
    """R2: memory still says «confirmed»; the booking's UPDATE reads the row and refuses."""
    _, (doctor,) = await factories.clinic(db)
    (slot,) = await factories.slots(db, doctor, clock.now() + timedelta(days=2), 1)
    _, booking, _ = services(db, clock)
    identity, (anna,) = await factories.account(db, 1, clock.now())
    await booking.preview(identity, anna.id, slot.id)  # anna is in memory, confirmed
    values = ({"status": ModerationStatus.REJECTED, "rejection_reason": "Неверный полис"} if change == "rejected"
              else {"removed_at": clock.now()})
    async with db.write() as uow:  # another process: this one is not told
        await uow.session.execute(update(Patient).where(Patient.id == anna.id).values(**values))
        await uow.commit()
    with pytest.raises(PersonNotConfirmed if change == "rejected" else NotFound):
        await booking.book(identity, anna.id, slot.id)
    assert await appointments(db) == 0


async def test_operators_new_cutoff_is_printed_on_the_next_booking(db: Database, clock: FixedClock) -> None:
    """R25: the change takes effect at once, on what is shown too."""
    org, (doctor,) = await factories.clinic(db)
    first, second = await factories.slots(db, doctor, clock.now() + timedelta(days=2), 2)
    views, booking, _ = services(db, clock)
    operator = RulesService(db, clock, views.rules.defaults, on_rules_change=views.rules.forget)
    anna_id, (anna,) = await factories.account(db, 1, clock.now())
    boris_id, (boris,) = await factories.account(db, 2, clock.now())
    before = await booking.book(anna_id, anna.id, first.id)
    assert before.cancel_deadline == cancel_deadline(first.starts_at, org.timezone, time(18, 0))
    await operator.set_cancel_cutoff(factories.staff_member(901), "12:00")
    after = await booking.book(boris_id, boris.id, second.id)
    assert after.cancel_deadline == cancel_deadline(second.starts_at, org.timezone, time(12, 0))


async def test_first_update_reads_who_and_the_card_file_together(db: Database, clock: FixedClock) -> None:
    """A patient's first update takes one connection for who they are and their card file, and the
    booking screens after it read nothing."""
    views, booking, _ = services(db, clock)
    access = AccessService(db, clock, factories.STAFF, factories.CONSENT, IdentityCache(), views.people)
    identity, (anna,) = await factories.account(db, 1, clock.now())
    taken: list[object] = []
    event.listen(db.engine.sync_engine.pool, "checkout", lambda *_: taken.append(1))
    who = await access.identify(identity.telegram_id, identity.chat_id)
    people, chosen = await booking.start(who)
    assert who.account_id == identity.account_id
    assert [p.id for p in people] == [anna.id] and chosen is not None
    assert len(taken) == 1


async def test_a_card_file_read_overtaken_by_a_change_is_not_kept(db: Database, clock: FixedClock) -> None:
    """A read that began before a committed change of a card file may predate it: not stored."""
    views, booking, card_file = services(db, clock)
    identity, (owner,) = await factories.account(db, 1, clock.now())
    added: list[Patient] = []
    epoch = views.people.epoch  # taken before the read, as who-is-this does
    async with db.read() as uow:
        seen = await uow.patients.of_account(owner.account_id)
    added.append(await card_file.submit(identity, factories.person(first_name="Олег", phone=None), as_owner=False))
    # the change landed between the read and this:
    views.people.keep(owner.account_id, epoch, [Person.of(p) for p in seen])
    assert [p.id for p in seen] == [owner.id]
    assert [p.id for p in await booking.bookable_people(identity)] == [owner.id, added[0].id]


async def test_who_is_this_reads_no_card_file_without_consent_to_the_current_policy(
        db: Database, clock: FixedClock) -> None:
    """152-FZ: a user who has not consented to the policy in force gets nothing of the card file read."""
    identity, (owner,) = await factories.account(db, 1, clock.now())
    found = await who_is(db, identity.telegram_id, factories.CONSENT)
    assert found is not None and found.account_id == owner.account_id and found.people == [Person.of(owner)]
    assert found.consent_version == factories.CONSENT and found.auth_method == identity.auth_method
    found = await who_is(db, identity.telegram_id, "a newer policy")
    assert found is not None and found.account_id == owner.account_id and found.people == []
    assert await who_is(db, 999, factories.CONSENT) is None
