"""Personal-data rights (152-FZ) through the core service on a real database: «Мои данные», deleting
the account, withdrawing consent; the audit log keeps ids only."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import select, text

from core.booking import BookingService
from core.cardfile import CardFileService
from core.clock import FixedClock
from core.enums import AppointmentStatus, AuthMethod, OfferStatus, SlotStatus
from core.errors import NotFound
from core.identity import Identity
from core.moderation import ModerationService
from core.privacy import HasUpcomingVisits, PrivacyService, VisitsPastCutoff
from core.rules import RuleDefaults
from core.waitlist import WaitlistService
from storage.db import Database
from storage.models import Appointment, AuditEntry, Base, Offer, Patient, TelegramUser, WaitlistEntry
from tests import factories

EMAIL = "belozerskaya@mail.ru"
OWNER = factories.person(last_name="Белозёрская", first_name="Ольга", middle_name="Петровна",
                         birth_date=date(1988, 3, 14), oms_policy="7700000011112222", snils="11223344595",
                         phone="+79123456789")
CHILD = factories.person(last_name="Белозёрский", first_name="Пётр", middle_name="Игоревич",
                         birth_date=date(2015, 6, 1), oms_policy="7700000033334444", phone=None)
MOTHER = factories.person(last_name="Белозёрская", first_name="Зинаида", middle_name=None,
                          birth_date=date(1960, 1, 2), oms_policy="7700000055556666", phone="+79001112233")
# What must not survive the deletion anywhere in the database.
PERSONAL = ("Белозёрск", "Ольга", "Пётр", "Зинаида", "7700000011112222", "7700000033334444", "7700000055556666",
            "11223344595", "+79123456789", "+79001112233", EMAIL, "1988-03-14", "2015-06-01")
MODERATOR = factories.staff_member(900)


@dataclass
class World:
    privacy: PrivacyService
    booking: BookingService
    waitlist: WaitlistService
    anna: Identity
    owner: Patient
    child: Patient
    mother: Patient
    past_id: int
    future_id: int
    future_slot: int
    held_slot: int
    olga: Identity


async def anna_with_everything(db: Database, clock: FixedClock) -> World:
    """An e-mail account with three people (one rejected), a past and a future visit, a queue entry
    holding an offer; Olga waits for both doctors after her."""
    defaults = RuleDefaults(offer_minutes=120)
    booking, waitlist = BookingService(db, clock, 14, defaults), WaitlistService(db, clock, 14, defaults)
    cardfile, moderation = CardFileService(db, clock, factories.STAFF), ModerationService(db, clock, factories.STAFF)
    _, (doctor, other) = await factories.clinic(db, doctors=2)
    start = clock.now()
    past_slot, future_slot = await factories.slots(db, doctor, start + timedelta(days=1), 2, step=timedelta(days=3))
    (held_slot,) = await factories.slots(db, other, start + timedelta(days=5), 1)

    anna = await factories.email_login(db, clock, 7, EMAIL)
    owner = await cardfile.submit(anna, OWNER, as_owner=True)
    child = await cardfile.submit(anna, CHILD, as_owner=False)
    mother = await cardfile.submit(anna, MOTHER, as_owner=False)
    await moderation.confirm(MODERATOR, owner.id)
    await moderation.confirm(MODERATOR, child.id)
    await moderation.reject(MODERATOR, mother.id, "Неверный полис")

    past = await booking.book(anna, owner.id, past_slot.id)
    clock.advance(timedelta(days=2))  # the first visit is now past
    future = await booking.book(anna, owner.id, future_slot.id)
    boris, (boris_p,) = await factories.account(db, 20, start)
    boris_visit = await booking.book(boris, boris_p.id, held_slot.id)
    await waitlist.join(anna, child.id, other.id, any_doctor=False)
    olga, (olga_p,) = await factories.account(db, 30, start)
    clock.advance(timedelta(seconds=1))
    await waitlist.join(olga, olga_p.id, other.id, any_doctor=False)
    await waitlist.join(olga, olga_p.id, doctor.id, any_doctor=False)
    await booking.cancel(boris, boris_visit.id)  # the time is offered to Anna's child and held for him
    return World(PrivacyService(db, clock, defaults), booking, waitlist, anna, owner, child, mother, past.id,
                 future.id, future_slot.id, held_slot.id, olga)


async def test_my_data_holds_every_stored_field(db: Database, clock: FixedClock) -> None:
    w = await anna_with_everything(db, clock)
    data = await w.privacy.export(w.anna)
    exported = data.as_json()
    assert json.loads(json.dumps(exported, ensure_ascii=False)) == exported

    assert (exported["auth_method"], exported["email"]) == (AuthMethod.EMAIL.value, EMAIL)
    assert exported["consent_version"] == factories.CONSENT and exported["consent_at"]
    people = {p["id"]: p for p in exported["people"]}
    assert list(people) == [w.owner.id, w.child.id, w.mother.id]
    assert people[w.owner.id] | {"submitted_at": None, "decided_at": None} == {
        "id": w.owner.id, "is_owner": True, "last_name": "Белозёрская", "first_name": "Ольга",
        "middle_name": "Петровна", "birth_date": "1988-03-14", "sex": "female", "oms_policy": "7700000011112222",
        "snils": "11223344595", "phone": "+79123456789", "status": "confirmed", "rejection_reason": None,
        "submitted_at": None, "decided_at": None, "removed_at": None}
    assert (people[w.mother.id]["status"], people[w.mother.id]["rejection_reason"]) == ("rejected", "Неверный полис")
    assert people[w.child.id]["phone"] is None and people[w.child.id]["middle_name"] == "Игоревич"

    visits = {v["id"]: v for v in exported["visits"]}
    assert set(visits) == {w.past_id, w.future_id}
    assert all(v["patient_id"] == w.owner.id and v["status"] == "active" and v["doctor"] != "—"
               for v in visits.values())
    [entry] = exported["queue"]
    assert entry["patient_id"] == w.child.id and entry["status"] == "offered"
    [offer] = entry["offers"]
    assert offer["status"] == "pending" and offer["slot_starts_at"]
    assert [(c["telegram_id"], c["chat_id"]) for c in exported["chats"]] == [(7, 7)]


async def test_someone_elses_export_has_none_of_annas_data(db: Database, clock: FixedClock) -> None:
    w = await anna_with_everything(db, clock)
    exported = json.dumps((await w.privacy.export(w.olga)).as_json(), ensure_ascii=False)
    assert not [value for value in PERSONAL if value in exported]


async def test_deletion_is_refused_while_future_visits_are_not_agreed_to(db: Database, clock: FixedClock) -> None:
    w = await anna_with_everything(db, clock)
    with pytest.raises(HasUpcomingVisits) as refused:
        await w.privacy.delete_account(w.anna, visits_seen=0)
    [visit] = refused.value.visits
    assert (visit.appointment_id, visit.patient_name) == (w.future_id, "Белозёрская Ольга Петровна")
    assert [v.appointment_id for v in await w.privacy.upcoming(w.anna)] == [w.future_id]
    assert (await w.privacy.export(w.anna)).visits  # nothing changed


async def test_deletion_is_refused_when_a_visit_is_past_the_cancel_cutoff(db: Database, clock: FixedClock) -> None:
    w = await anna_with_everything(db, clock)
    clock.advance(timedelta(days=1, hours=10))  # the eve of the visit, after the cancel cutoff
    with pytest.raises(VisitsPastCutoff) as refused:
        await w.privacy.delete_account(w.anna, visits_seen=1)
    assert [v.appointment_id for v in refused.value.visits] == [w.future_id]
    assert refused.value.visits[0].phone  # the registry's number, to call instead
    assert (await w.privacy.export(w.anna)).people


async def test_deletion_cancels_the_visits_and_offers_the_freed_time_to_the_queue(
        db: Database, clock: FixedClock) -> None:
    """R10: the cancelled visit and the offer Anna held both go to Olga, next in the queues."""
    w = await anna_with_everything(db, clock)
    deleted = await w.privacy.delete_account(w.anna, visits_seen=1)
    assert (deleted.cancelled, deleted.unlinked) == (1, ((7, 7),))

    async with db.read() as uow:
        offers = list(await uow.session.scalars(
            select(Offer).join(WaitlistEntry).where(WaitlistEntry.account_id == w.olga.account_id,
                                                    Offer.status == OfferStatus.PENDING)))
        assert {o.slot_id for o in offers} == {w.future_slot, w.held_slot}
        for slot_id in (w.future_slot, w.held_slot):
            assert (await uow.slots.get(slot_id)).status == SlotStatus.HELD  # type: ignore[union-attr]
        future = await uow.appointments.get(w.future_id)
        assert future is not None and future.status == AppointmentStatus.CANCELLED
    assert [m.kind for m in await factories.outbox(db, 30)] == ["offer", "offer"]


async def test_after_deletion_nothing_names_the_accounts_people(db: Database, clock: FixedClock) -> None:
    w = await anna_with_everything(db, clock)
    await w.privacy.delete_account(w.anna, visits_seen=1)

    found = await rows_containing(db, PERSONAL)
    assert found == []
    async with db.read() as uow:
        assert await uow.login.account(w.anna.account_id or 0) is None
        assert await uow.session.get(TelegramUser, 7) is None  # consent again before anything is stored
        assert list(await uow.session.scalars(select(Patient).where(Patient.account_id == w.anna.account_id))) == []
        past = await uow.appointments.get(w.past_id)
        assert past is not None and (past.patient_id, past.made_by_account_id, past.patient_oms) == (None, None, None)
        assert past.status == AppointmentStatus.ACTIVE  # the clinic's history keeps the visit, nameless
    with pytest.raises(NotFound):
        await w.privacy.export(w.anna)


async def test_the_audit_log_keeps_ids_only(db: Database, clock: FixedClock) -> None:
    w = await anna_with_everything(db, clock)
    await w.privacy.export(w.anna)
    await w.privacy.delete_account(w.anna, visits_seen=1)
    async with db.read() as uow:
        rows = list(await uow.session.scalars(select(AuditEntry)))
    audit = json.dumps([[r.action, r.subject, r.details] for r in rows], ensure_ascii=False)
    assert not [value for value in PERSONAL if value in audit]
    deleted = [r for r in rows if r.action == "account.deleted"]
    assert [(r.actor_telegram_id, r.account_id) for r in deleted] == [(7, w.anna.account_id)]


async def test_withdrawing_consent_keeps_the_account_and_forgets_the_chat(db: Database, clock: FixedClock) -> None:
    """/privacy → «Отозвать согласие»: this Telegram user's link, consent and log-in codes go; the
    held offer moves on (nobody is left to answer it); the account and its card file stay."""
    w = await anna_with_everything(db, clock)
    await w.privacy.withdraw_consent(w.anna)
    async with db.read() as uow:
        assert await uow.session.get(TelegramUser, 7) is None
        assert await uow.login.latest_code(7) is None
        assert await uow.login.account(w.anna.account_id or 0) is not None
        assert len(await uow.privacy.people(w.anna.account_id or 0)) == 3
        held = await uow.slots.get(w.held_slot)
        assert held is not None and held.status == SlotStatus.HELD  # now for Olga
    assert [m.kind for m in await factories.outbox(db, 30)] == ["offer"]
    assert [m for m in await factories.outbox(db, 7) if m.status == "pending"] == []


async def rows_containing(db: Database, values: tuple[str, ...]) -> list[tuple[str, str]]:
    """Every row of every table, as text, that holds one of ``values``: (table, value)."""
    found = []
    async with db.read() as uow:
        for table in Base.metadata.sorted_tables:
            for row in (await uow.session.execute(text(f"SELECT * FROM {table.name}"))).all():
                line = json.dumps([str(v) for v in row], ensure_ascii=False)
                found += [(table.name, v) for v in values if v in line]
    return found


def test_every_table_is_scanned() -> None:
    assert {"patients", "appointments", "outbox", "audit_log", "login_codes", "conversation_states"} <= set(
        Base.metadata.tables)
    assert Appointment.__tablename__ == "appointments"
