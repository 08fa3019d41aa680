"""«Будущие и прошедшие визиты» (R20–R23): what the card file shows depends on how the account
logged in and whose row it is.

One scene for all tests: Анна (policy 7700000055556666, SNILS 112-233-445 95) has an ESIA account
with her daughter Маша in the card file, and also an old e-mail account of her own. Маша has her
own e-mail account too. The clinic's systems sent appointments for Анна made at the registry,
the electronic queue, by the doctor and at an infomat (R27).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.booking import AppointmentView, BookingService
from core.clock import FixedClock
from core.enums import AppointmentSource, AppointmentStatus, AuthMethod
from core.identity import Identity
from core.rules import RuleDefaults
from core.visits import PersonVisits, VisitsService
from storage.db import Database
from storage.models import Appointment, Doctor, Patient
from tests import factories

POLICY, SNILS = "7700000055556666", "11223344595"


@dataclass
class Scene:
    esia: Identity  # Анна through Госуслуги, with Маша in the card file
    anna: Patient
    masha: Patient
    email: Identity  # Анна's own e-mail account, same policy
    masha_own: Identity  # Маша's own e-mail account
    imported: dict[str, Appointment]  # by label
    portal: dict[str, int]  # appointment ids by label


def at(clock: FixedClock, days: float) -> datetime:
    """A visit ``days`` from T0 (Monday 06:00 UTC), at 11:00 Moscow time."""
    return clock.now() + timedelta(days=days, hours=2)


async def one_slot(db: Database, doctor: Doctor, starts: datetime) -> int:
    (slot,) = await factories.slots(db, doctor, starts, 1)
    return slot.id


async def scene(db: Database, clock: FixedClock) -> Scene:
    _, (dr_a, dr_b) = await factories.clinic(db, doctors=2)
    now = clock.now()
    esia, (anna, masha) = await factories.account(db, 7, now, method=AuthMethod.ESIA, people=2, oms=POLICY, snils=SNILS)
    email, (anna_by_email,) = await factories.account(db, 8, now, oms=POLICY)
    masha_own, (masha_herself,) = await factories.account(db, 9, now, oms=masha.oms_policy)

    imported: dict[str, Appointment] = {}
    for label, source, days, oms, snils, status in [
        ("registry", AppointmentSource.REGISTRY, 1, POLICY, None, AppointmentStatus.ACTIVE),
        ("equeue", AppointmentSource.EQUEUE, 2, POLICY, SNILS, AppointmentStatus.ACTIVE),
        ("doctor", AppointmentSource.DOCTOR, 3, POLICY, None, AppointmentStatus.ACTIVE),
        ("infomat by snils", AppointmentSource.INFOMAT, 4, None, SNILS, AppointmentStatus.ACTIVE),
        ("last month", AppointmentSource.REGISTRY, -30, POLICY, None, AppointmentStatus.ACTIVE),
        ("last week", AppointmentSource.DOCTOR, -7, POLICY, None, AppointmentStatus.ACTIVE),
        ("cancelled", AppointmentSource.REGISTRY, 6, POLICY, None, AppointmentStatus.CANCELLED),
        ("somebody else", AppointmentSource.REGISTRY, 2.5, "7700000099999999", None, AppointmentStatus.ACTIVE),
        ("masha at registry", AppointmentSource.REGISTRY, 3.5, masha.oms_policy, None, AppointmentStatus.ACTIVE),
    ]:
        (slot,) = await factories.slots(db, dr_a, at(clock, days), 1)
        imported[label] = await factories.imported_appointment(db, slot, source, now, oms=oms, snils=snils,
                                                               status=status)

    booking = BookingService(db, clock)
    portal = {
        "masha here": (await booking.book(esia, masha.id, await one_slot(db, dr_b, at(clock, 5)))).id,
        "masha on her own": (await booking.book(masha_own, masha_herself.id,
                                                await one_slot(db, dr_b, at(clock, 6)))).id,
        "anna by email": (await booking.book(email, anna_by_email.id, await one_slot(db, dr_b, at(clock, 7)))).id,
        "masha cancelled": (await booking.book(esia, masha.id, await one_slot(db, dr_a, at(clock, 8)))).id,
    }
    await booking.cancel(esia, portal["masha cancelled"])
    return Scene(esia, anna, masha, email, masha_own, imported, portal)


def visits(db: Database, clock: FixedClock) -> VisitsService:
    return VisitsService(db, clock, RuleDefaults())


def card_of(cards: list[PersonVisits], patient: Patient) -> PersonVisits:
    (card,) = [c for c in cards if c.patient.id == patient.id]
    return card


def ids(views: list[AppointmentView]) -> list[int]:
    return [v.id for v in views]


async def test_esia_owner_sees_visits_from_every_source(db: Database, clock: FixedClock) -> None:
    """R20, R22: through Госуслуги Анна sees, for herself, what the registry, the electronic queue, the doctor
    and the infomat booked — matched by her policy or SNILS — future ones soonest first, past ones latest first.
    Those were not made here, so they cannot be cancelled here (R16)."""
    s = await scene(db, clock)
    anna = card_of(await visits(db, clock).overview(s.esia), s.anna)
    imported = s.imported

    # Her own portal booking made under her e-mail account shows too: ESIA proved it is her (R22).
    assert ids(anna.future) == [*(imported[k].id for k in ("registry", "equeue", "doctor", "infomat by snils")),
                                s.portal["anna by email"]]
    assert [v.source for v in anna.future] == [AppointmentSource.REGISTRY, AppointmentSource.EQUEUE,
                                               AppointmentSource.DOCTOR, AppointmentSource.INFOMAT,
                                               AppointmentSource.PORTAL]
    assert ids(anna.past) == [imported["last week"].id, imported["last month"].id]
    assert all(not v.made_here and v.cancel_deadline is None and not v.cancellable(clock.now())
               for v in anna.future)
    assert all(v.patient_id == s.anna.id for v in anna.future + anna.past)

    clock.advance(timedelta(days=2, hours=3))  # the registry and queue visits are behind now
    anna = card_of(await visits(db, clock).overview(s.esia), s.anna)
    assert ids(anna.future) == [imported["doctor"].id, imported["infomat by snils"].id, s.portal["anna by email"]]
    assert ids(anna.past) == [imported[k].id for k in ("equeue", "registry", "last week", "last month")]


async def test_email_account_sees_only_portal_visits_made_under_it(db: Database, clock: FixedClock) -> None:
    """R21: the same Анна logged in by e-mail sees only what was booked on the portal under this account —
    none of the registry's, queue's, doctor's or infomat's visits, although the policy is the same."""
    s = await scene(db, clock)
    (anna,) = await visits(db, clock).overview(s.email)
    assert [(v.id, v.source, v.made_here) for v in anna.future] == [
        (s.portal["anna by email"], AppointmentSource.PORTAL, True)]
    assert anna.past == []
    assert anna.future[0].cancellable(clock.now())


async def test_family_members_show_only_what_this_account_booked(db: Database, clock: FixedClock) -> None:
    """R23: Маша's row in Анна's card file shows the portal visit booked here; what Маша booked under her own
    account, and what the registry booked for her, never appear here — and Анна's booking is not in Маша's."""
    s = await scene(db, clock)
    masha = card_of(await visits(db, clock).overview(s.esia), s.masha)
    assert [(v.id, v.made_here) for v in masha.future] == [(s.portal["masha here"], True)]
    assert masha.past == []

    (herself,) = await visits(db, clock).overview(s.masha_own)
    assert ids(herself.future) == [s.portal["masha on her own"]]


async def test_nobody_sees_cancelled_visits_or_other_peoples(db: Database, clock: FixedClock) -> None:
    """R20–R23: a cancelled visit is gone from the card file; a stranger's imported visit never shows."""
    s = await scene(db, clock)
    hidden = {s.imported["cancelled"].id, s.imported["somebody else"].id, s.portal["masha cancelled"],
              s.imported["masha at registry"].id}
    for identity in (s.esia, s.email, s.masha_own):
        for card in await visits(db, clock).overview(identity):
            assert hidden.isdisjoint(ids(card.future) + ids(card.past))


async def test_esia_owner_also_sees_own_portal_visits_booked_under_another_account(db: Database,
                                                                                   clock: FixedClock) -> None:
    """R22: for the ESIA-proven owner the card file shows visits «на Региональном портале» too — including the
    one Анна booked for herself through her old e-mail account. (The limit to «only under this account» is
    R23's, for the other people in the card file.)"""
    s = await scene(db, clock)
    anna = card_of(await visits(db, clock).overview(s.esia), s.anna)
    assert s.portal["anna by email"] in ids(anna.future)
