"""«Время устанавливается оператором системы» (R25) and the reminders before a visit.

The operator's cancel cutoff is read on every cancel (R17), so a change applies at once; the
reminders go out the day before and shortly before, once each, for portal visits only.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import event, select

from core.booking import BookingService
from core.clock import FixedClock
from core.enums import AppointmentSource, AppointmentStatus
from core.errors import CutoffPassed, InvalidInput, NotAllowed
from core.notify import Kind
from core.reminders import ReminderService
from core.rules import RuleDefaults, Rules, RulesService, seed_defaults
from storage.db import Database
from storage.models import AuditEntry, OutboxMessage, SystemRule
from tests import factories
from tests.conftest import T0

OPERATOR, MODERATOR = factories.staff_member(901), factories.staff_member(900)
DEFAULTS = RuleDefaults(cancel_cutoff=time(18, 0), offer_minutes=120)


def rules(db: Database, clock: FixedClock) -> RulesService:
    return RulesService(db, clock, DEFAULTS)


def booking(db: Database, clock: FixedClock) -> BookingService:
    return BookingService(db, clock, rule_defaults=DEFAULTS)


async def stored_rules(db: Database) -> dict[str, str]:
    async with db.read() as uow:
        return await uow.rules.all()


# --- the operator's rules ------------------------------------------------------------------------


async def test_only_an_operator_sets_the_cancel_cutoff(db: Database, clock: FixedClock) -> None:
    """R25: a patient or a moderator cannot move the cutoff, even with a forged button."""
    patient, _ = await factories.account(db, 7, clock.now())
    for somebody in (patient, MODERATOR):
        with pytest.raises(NotAllowed):
            await rules(db, clock).set_cancel_cutoff(somebody, "12:00")
        with pytest.raises(NotAllowed):
            await rules(db, clock).set_offer_minutes(somebody, "30")
        with pytest.raises(NotAllowed):
            await rules(db, clock).show(somebody)
    assert await stored_rules(db) == {}
    assert await rules(db, clock).show(OPERATOR) == Rules(time(18, 0), 120)


async def test_the_operators_cutoff_applies_to_the_very_next_cancel(db: Database, clock: FixedClock) -> None:
    """R17, R25: a visit on Wednesday 10:00 Moscow, cancelled on Tuesday at 17:30 Moscow: refused with a
    17:00 cutoff, allowed as soon as the operator moves it to 18:00 — no restart, same services.
    Each change is in the audit log: who, when, from what to what."""
    _, (doctor,) = await factories.clinic(db, timezone="Europe/Moscow")
    (slot,) = await factories.slots(db, doctor, datetime(2026, 12, 2, 7, 0, tzinfo=UTC), 1)
    identity, (anna,) = await factories.account(db, 7, clock.now())
    bookings = booking(db, clock)
    view = await bookings.book(identity, anna.id, slot.id)
    operator = rules(db, clock)

    assert await operator.set_cancel_cutoff(OPERATOR, "17:00") == Rules(time(17, 0), 120)
    clock.set(datetime(2026, 12, 1, 14, 30, tzinfo=UTC))  # Tuesday 17:30 Moscow
    with pytest.raises(CutoffPassed) as info:
        await bookings.cancel(identity, view.id)
    assert info.value.deadline == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)

    await operator.set_cancel_cutoff(OPERATOR, "18:00")
    cancelled = await bookings.cancel(identity, view.id)
    assert cancelled.status == AppointmentStatus.CANCELLED
    assert cancelled.cancel_deadline == datetime(2026, 12, 1, 15, 0, tzinfo=UTC)

    async with db.read() as uow:
        rows = list(await uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "rules.cancel_cutoff").order_by(AuditEntry.id)))
        rule = await uow.session.get(SystemRule, "cancel_cutoff")
    assert [(r.actor_telegram_id, r.details) for r in rows] == [
        (901, {"from": None, "to": "17:00"}), (901, {"from": "17:00", "to": "18:00"})]
    assert [r.at for r in rows] == [T0, clock.now()]
    assert rule is not None and (rule.value, rule.updated_by, rule.updated_at) == ("18:00", 901, clock.now())


async def test_cutoff_and_offer_time_as_operators_type_them(db: Database, clock: FixedClock) -> None:
    """R15, R25: the cutoff is ЧЧ:ММ from 00:00 to 23:59 («17.30» means 17:30); an offer is held 5 minutes
    to 24 hours. Anything else is refused and the rule stays as it was."""
    operator = rules(db, clock)
    assert (await operator.set_cancel_cutoff(OPERATOR, " 17.30 ")).cancel_cutoff == time(17, 30)
    assert (await operator.set_cancel_cutoff(OPERATOR, "9:05")).cancel_cutoff == time(9, 5)
    assert (await operator.set_offer_minutes(OPERATOR, " 45 ")).offer_minutes == 45
    for typed in ("25:00", "17", "17:60", "семь", "", "17:00:00", "-1:30", "24:00"):
        with pytest.raises(InvalidInput) as info:
            await operator.set_cancel_cutoff(OPERATOR, typed)
        assert info.value.field == "cancel_cutoff", typed
    for typed, reason in (("4", "range"), ("1441", "range"), ("час", "format")):
        with pytest.raises(InvalidInput) as info:
            await operator.set_offer_minutes(OPERATOR, typed)
        assert (info.value.field, info.value.reason) == ("offer_minutes", reason)
    assert await stored_rules(db) == {"cancel_cutoff": "09:05", "offer_minutes": "45"}
    assert await operator.show(OPERATOR) == Rules(time(9, 5), 45)


async def test_configured_defaults_are_stored_once_and_never_overwrite_the_operator(db: Database,
                                                                                  clock: FixedClock) -> None:
    """R25: on start the bot stores its configured defaults if none are stored; an operator's choice
    survives every later start, whatever the configuration says then."""
    await seed_defaults(db, DEFAULTS, clock.now())
    assert await stored_rules(db) == {"cancel_cutoff": "18:00", "offer_minutes": "120"}
    await rules(db, clock).set_cancel_cutoff(OPERATOR, "17:00")

    await seed_defaults(db, RuleDefaults(cancel_cutoff=time(19, 0), offer_minutes=90), clock.now())

    assert await stored_rules(db) == {"cancel_cutoff": "17:00", "offer_minutes": "120"}
    assert await RulesService(db, clock, RuleDefaults(time(19, 0), 90)).show(OPERATOR) == Rules(time(17, 0), 120)


async def test_bot_processes_starting_together_all_start(request: pytest.FixtureRequest, db: Database,
                                                         clock: FixedClock) -> None:
    """R25: several instances storing the defaults at the same moment must not crash any of them."""
    await factories.ready_connections(db, 4)
    results = await asyncio.gather(*(seed_defaults(db, DEFAULTS, clock.now()) for _ in range(4)),
                                   return_exceptions=True)
    assert results == [None] * 4
    assert await stored_rules(db) == {"cancel_cutoff": "18:00", "offer_minutes": "120"}


# --- reminders -----------------------------------------------------------------------------------


async def reminders(db: Database) -> list[OutboxMessage]:
    return [m for m in await factories.outbox(db) if m.kind == Kind.REMINDER]


async def test_a_portal_visit_is_reminded_the_day_before_and_shortly_before(db: Database, clock: FixedClock) -> None:
    """Reminders: one the day before (a visit 23 hours away), one 2 hours before; each exactly once,
    however often the clock ticks."""
    _, (doctor,) = await factories.clinic(db)
    (slot,) = await factories.slots(db, doctor, clock.now() + timedelta(hours=23), 1)
    identity, (anna,) = await factories.account(db, 7, clock.now())
    view = await booking(db, clock).book(identity, anna.id, slot.id)
    service = ReminderService(db, clock, day_before=True, hours_before=2)

    assert await service.send_due() == 1
    assert await service.send_due() == 0
    (first,) = await reminders(db)
    assert first.chat_id == 7 and first.payload["appointment_id"] == view.id

    clock.advance(timedelta(hours=20))  # 3 hours before: nothing new yet
    assert await service.send_due() == 0
    clock.advance(timedelta(hours=1, minutes=30))  # 1.5 hours before
    assert await service.send_due() == 1
    assert await service.send_due() == 0
    assert [m.payload["appointment_id"] for m in await reminders(db)] == [view.id, view.id]


async def test_a_visit_booked_at_the_last_moment_is_reminded_once(db: Database, clock: FixedClock) -> None:
    """Reminders: booked 1.5 hours ahead, the day-before reminder would only repeat the short one."""
    _, (doctor,) = await factories.clinic(db)
    (slot,) = await factories.slots(db, doctor, clock.now() + timedelta(hours=1, minutes=30), 1)
    identity, (anna,) = await factories.account(db, 7, clock.now())
    await booking(db, clock).book(identity, anna.id, slot.id)
    service = ReminderService(db, clock, day_before=True, hours_before=2)
    assert await service.send_due() == 1
    clock.advance(timedelta(minutes=10))
    assert await service.send_due() == 0
    assert len(await reminders(db)) == 1


async def test_no_reminders_for_visits_made_elsewhere_or_cancelled(db: Database, clock: FixedClock) -> None:
    """R21, R27: the bot reminds only of what was booked through it and is still on."""
    _, (doctor,) = await factories.clinic(db)
    registry_slot, infomat_slot, cancelled_slot = await factories.slots(
        db, doctor, clock.now() + timedelta(hours=1, minutes=30), 3, step=timedelta(hours=10))
    identity, (anna,) = await factories.account(db, 7, clock.now(), oms="7700000055556666")
    for slot, source in ((registry_slot, AppointmentSource.REGISTRY), (infomat_slot, AppointmentSource.INFOMAT)):
        await factories.imported_appointment(db, slot, source, clock.now(), oms="7700000055556666")
    view = await booking(db, clock).book(identity, anna.id, cancelled_slot.id)
    await booking(db, clock).cancel(identity, view.id)
    service = ReminderService(db, clock, day_before=True, hours_before=2)

    for _ in range(3):
        assert await service.send_due() == 0
        clock.advance(timedelta(hours=8))
    assert await reminders(db) == []


async def test_with_only_the_day_before_reminder_it_is_still_sent(db: Database, clock: FixedClock) -> None:
    """Reminders: a clinic that turns the short reminder off (hours_before=0) still gets the day-before one."""
    _, (doctor,) = await factories.clinic(db)
    (slot,) = await factories.slots(db, doctor, clock.now() + timedelta(hours=23), 1)
    identity, (anna,) = await factories.account(db, 7, clock.now())
    await booking(db, clock).book(identity, anna.id, slot.id)
    assert await ReminderService(db, clock, day_before=True, hours_before=0).send_due() == 1
    assert len(await reminders(db)) == 1


async def test_a_big_batch_of_reminders_goes_out_in_short_transactions(db: Database, clock: FixedClock) -> None:
    """Forty-five visits due at once: every one reminded once, by transactions of at most ``chunk``
    visits with turns for other updates between them (on SQLite a write transaction holds the loop)."""
    _, (doctor,) = await factories.clinic(db)
    slots = await factories.slots(db, doctor, clock.now() + timedelta(hours=1), 45, step=timedelta(minutes=1))
    for n, slot in enumerate(slots):
        identity, (person,) = await factories.account(db, 1000 + n, clock.now())
        await booking(db, clock).book(identity, person.id, slot.id)
    service = ReminderService(db, clock, day_before=False, hours_before=2)
    commits: list[object] = []
    event.listen(db.engine.sync_engine, "commit", lambda *_: commits.append(1))
    turns = 0

    async def ticking() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(ticking())
    await asyncio.sleep(0)
    try:
        before = turns
        assert await service.send_due(limit=200, chunk=20) == 45
        between = turns - before
    finally:
        ticker.cancel()
    assert len(commits) == 3  # 20 + 20 + 5 visits
    assert between >= 2  # at least after the first and the second chunk
    assert sorted(m.chat_id for m in await reminders(db)) == [1000 + n for n in range(45)]
    assert await service.send_due(limit=200, chunk=20) == 0
    with pytest.raises(ValueError):
        await service.send_due(chunk=0)
