"""What another process commits (a second bot instance, ``python -m bot import-fhir``) shows on this
process's very next screen: nothing a patient sees, books from or is authorized by is kept in memory
between updates (R1, R2, R6, R25, R27)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import Settings
from bot.container import Container, build_container
from core.clock import FixedClock
from core.cutoff import cancel_deadline
from core.errors import PersonNotConfirmed
from core.fhir import import_bundle
from core.fhir.demo_bundle import build_demo_bundle
from storage.db import Database
from tests import factories
from tests.conftest import same_database


def settings(db: Database) -> Settings:
    return Settings(
        _env_file=None, bot_token="123456:TEST", database_url=db.url,
        moderator_ids=factories.STAFF.moderators, operator_ids=factories.STAFF.operators,
        consent_policy_version=factories.CONSENT,
    )


@pytest.fixture
async def here_and_there(db: Database, clock: FixedClock) -> AsyncIterator[tuple[Container, Container]]:
    """The bot as this process builds it, and the same bot in another process on the same data."""
    other = await same_database(db)
    try:
        yield build_container(settings(db), db, clock), build_container(settings(other), other, clock)
    finally:
        await other.dispose()


async def test_a_time_booked_elsewhere_is_gone_from_the_next_screen(
        here_and_there: tuple[Container, Container], clock: FixedClock) -> None:
    here, there = here_and_there
    org, (doctor,) = await factories.clinic(here.db)
    a, b = await factories.slots(here.db, doctor, clock.now() + timedelta(days=2), 2)
    anna, (patient,) = await factories.account(here.db, 1, clock.now())
    day = a.starts_at.astimezone(ZoneInfo(org.timezone)).date()
    _, times = await here.schedule.free_times(doctor.id, day)
    assert [t.slot_id for t in times] == [a.id, b.id]

    await there.booking.book(anna, patient.id, a.id)

    _, times = await here.schedule.free_times(doctor.id, day)
    assert [t.slot_id for t in times] == [b.id]
    page = await here.schedule.doctors(doctor.specialty_id, 0, 10)
    assert [c.next_free for c in page.choices] == [b.starts_at]


async def test_a_clinic_imported_elsewhere_is_offered_at_once(
        here_and_there: tuple[Container, Container], clock: FixedClock) -> None:
    """R27: ``python -m bot import-fhir`` writes from its own process; the bot shows it on the next tap."""
    here, there = here_and_there
    assert await here.schedule.specialties() == []
    await import_bundle(there.db, build_demo_bundle(clock.now()), clock.now())
    specialties = await here.schedule.specialties()
    assert "Терапевт" in [s.name for s in specialties]
    therapist = next(s for s in specialties if s.name == "Терапевт")
    page = await here.schedule.doctors(therapist.id, 0, 10)
    assert page.choices and all(c.next_free is not None for c in page.choices)


async def test_a_moderators_decision_elsewhere_lets_the_patient_book_at_once(
        here_and_there: tuple[Container, Container], clock: FixedClock) -> None:
    """R2: confirmed on another instance, bookable here on the next tap; removed there, gone here."""
    here, there = here_and_there
    identity = await factories.email_login(here.db, clock, 7, "user7@mail.ru")
    anna = await here.cardfile.submit(identity, factories.person(), as_owner=True)
    with pytest.raises(PersonNotConfirmed):
        await here.booking.start(identity)
    await there.moderation.confirm(factories.staff_member(900), anna.id)
    _, chosen = await here.booking.start(identity)
    assert chosen is not None and chosen.id == anna.id

    son = await there.cardfile.submit(identity, factories.person(first_name="Олег", phone=None), as_owner=False)
    assert [p.id for p in await here.booking.bookable_people(identity)] == [anna.id, son.id]
    await there.cardfile.remove(identity, son.id)
    assert [p.id for p in await here.booking.bookable_people(identity)] == [anna.id]


async def test_an_operators_cutoff_set_elsewhere_is_printed_on_the_next_booking(
        here_and_there: tuple[Container, Container], clock: FixedClock) -> None:
    """R25: the cancel deadline shown with a new booking follows the rule in force."""
    here, there = here_and_there
    org, (doctor,) = await factories.clinic(here.db)
    first, second = await factories.slots(here.db, doctor, clock.now() + timedelta(days=2), 2)
    anna, (a,) = await factories.account(here.db, 1, clock.now())
    boris, (b,) = await factories.account(here.db, 2, clock.now())
    before = await here.booking.book(anna, a.id, first.id)
    assert before.cancel_deadline == cancel_deadline(first.starts_at, org.timezone, time(18, 0))
    await there.rules.set_cancel_cutoff(factories.staff_member(901), "12:00")
    after = await here.booking.book(boris, b.id, second.id)
    assert after.cancel_deadline == cancel_deadline(second.starts_at, org.timezone, time(12, 0))


async def test_a_log_out_or_withdrawn_consent_elsewhere_holds_here_at_once(
        here_and_there: tuple[Container, Container], clock: FixedClock) -> None:
    """R1, 152-FZ: the next update after a log-out on another instance is a logged-out user's."""
    here, there = here_and_there
    await factories.email_login(here.db, clock, 7, "user7@mail.ru")
    who = await here.access.identify(7, 7)
    assert who.consented and who.account_id is not None
    assert await there.access.logout(who)
    assert (await here.access.identify(7, 7)).account_id is None
    await there.privacy.withdraw_consent(who)
    assert not (await here.access.identify(7, 7)).consented
