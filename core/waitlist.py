"""The waitlist (R8–R15): joining, offers of freed time, confirm, decline, expiry, leaving.

State lives in the database; each transition is a conditional update that succeeds once, so
double taps, stale buttons, two processes and restarts cannot book twice or lose a hold.
Whatever frees a slot (a cancellation, an import, a declined or lapsed offer) calls
``offer_freed_slots`` in its own transaction, so the offer and its message commit with the event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from core import notify
from core.access import ensure_may_act, own_person
from core.catalog import DoctorInfo, doctor_in
from core.clock import Clock
from core.enums import (
    OfferStatus,
    SlotStatus,
    WaitlistStatus,
)
from core.errors import (
    AlreadyQueued,
    FreeTimeExists,
    NotFound,
    OfferGone,
    OnePerDoctor,
    WaitlistClosed,
)
from core.identity import Identity
from core.rules import RuleDefaults, current
from storage.db import Database
from storage.models import Appointment, Offer, WaitlistEntry
from storage.repositories.waitlist import OPEN
from storage.uow import UnitOfWork

MAX_OFFERS = 3  # R13
MIN_HOLD = timedelta(minutes=5)  # a time starting sooner than this is not worth offering


@dataclass(frozen=True)
class Joined:
    entry_id: int
    position: int
    doctor: DoctorInfo
    any_doctor: bool


@dataclass(frozen=True)
class Outcome:
    """What a decline or an expiry did to the entry."""

    entry_closed: bool
    offers_left: int
    position: int | None  # the place kept in the queue (R12); None once out of it


async def offer_freed_slots(uow: UnitOfWork, slot_ids: Sequence[int], now: datetime,
                            defaults: RuleDefaults | None = None) -> int:
    """R10: each freed slot goes to the first matching queued patient and is held for them."""
    if not slot_ids or not await uow.waitlist.anyone_waiting():
        return 0  # the common case on a big import: nobody queued, nothing to look up per slot
    rules = await current(uow, defaults or RuleDefaults())
    made = 0
    for slot_id in slot_ids:
        slot = await uow.slots.get(slot_id)
        if slot is None or slot.status != SlotStatus.FREE or slot.starts_at - MIN_HOLD <= now:
            continue
        doctor = await uow.clinic.doctor(slot.doctor_id)
        if doctor is None:
            continue
        org = await uow.clinic.organization(doctor.organization_id)
        if org is None or not org.waitlist_enabled:
            continue
        entry = await uow.waitlist.first_for_slot(slot.id, doctor.id, doctor.organization_id, doctor.specialty_id)
        if entry is None:
            continue
        if not await uow.slots.set_status(slot.id, SlotStatus.HELD, expected=SlotStatus.FREE):
            continue
        if not await uow.waitlist.set_status(entry.id, WaitlistStatus.OFFERED, expected=[WaitlistStatus.WAITING]):
            await uow.slots.set_status(slot.id, SlotStatus.FREE, expected=SlotStatus.HELD)
            continue
        # R15: held for the operator-set time, never beyond the visit itself.
        expires = min(now + timedelta(minutes=rules.offer_minutes), slot.starts_at)
        offer = await uow.waitlist.add_offer(Offer(entry_id=entry.id, slot_id=slot.id, status=OfferStatus.PENDING,
                                                   created_at=now, expires_at=expires))
        await notify.to_account(uow, entry.account_id, notify.Kind.OFFER, {
            "offer_id": offer.id, "patient_id": entry.patient_id, "doctor_id": doctor.id,
            "starts_at": slot.starts_at.isoformat(), "expires_at": expires.isoformat(),
            "attempt": entry.offers_used + 1, "max": MAX_OFFERS,
        }, now)
        uow.audit.record(now, "offer.made", account_id=entry.account_id, subject=f"offer:{offer.id}")
        made += 1
    return made


async def release_held(uow: UnitOfWork, slot_id: int, now: datetime, defaults: RuleDefaults | None = None) -> None:
    """A held slot whose offer ended goes back to free, and on to the next in line at once."""
    if await uow.slots.set_status(slot_id, SlotStatus.FREE, expected=SlotStatus.HELD):
        await offer_freed_slots(uow, [slot_id], now, defaults)


async def _close_offer(uow: UnitOfWork, offer: Offer, status: OfferStatus, now: datetime,
                       defaults: RuleDefaults) -> Outcome:
    """Decline or expiry (R12, R13, R15): one attempt used; back in the queue in place, or out after three.

    A decline is answered on the patient's own screen; only an expiry, which nobody pressed, is
    told by a message.
    """
    entry = await uow.waitlist.entry(offer.entry_id)
    assert entry is not None
    used = entry.offers_used + 1
    closed = used >= MAX_OFFERS
    await uow.waitlist.set_status(entry.id, WaitlistStatus.EXHAUSTED if closed else WaitlistStatus.WAITING,
                                  expected=[WaitlistStatus.OFFERED], now=now, used_offer=True)
    position = None if closed else await uow.waitlist.position(entry)
    if status == OfferStatus.EXPIRED:
        kind = notify.Kind.QUEUE_EXHAUSTED if closed else notify.Kind.OFFER_LAPSED
        await notify.to_account(uow, entry.account_id, kind, {
            "patient_id": entry.patient_id, "reason": status.value, "offers_left": MAX_OFFERS - used,
            "position": position, "doctor_id": entry.doctor_id, "specialty_id": entry.specialty_id,
        }, now)
    await release_held(uow, offer.slot_id, now, defaults)
    return Outcome(closed, max(0, MAX_OFFERS - used), position)


class WaitlistService:
    def __init__(self, db: Database, clock: Clock, horizon_days: int = 14,
                 rule_defaults: RuleDefaults | None = None) -> None:
        self.db = db
        self.clock = clock
        self.horizon = timedelta(days=horizon_days)
        self.defaults = rule_defaults or RuleDefaults()

    async def join(self, identity: Identity, patient_id: int, doctor_id: int, *, any_doctor: bool) -> Joined:
        """R8, R9: queue for this doctor or any doctor of the specialty in that organization."""
        account_id = identity.require_account()
        now = self.clock.now()
        async with self.db.write() as uow:
            doctor = await doctor_in(uow, doctor_id)
            patient = await own_person(uow, account_id, patient_id)
            ensure_may_act(patient)
            org = doctor.org
            if not org.waitlist_enabled:
                raise WaitlistClosed()
            if await uow.slots.free_starts(doctor.id, now, now + self.horizon):
                raise FreeTimeExists()
            wanted = None if any_doctor else doctor.id
            if await uow.waitlist.open_duplicate(patient.id, org.id, doctor.specialty.id, wanted):
                raise AlreadyQueued()
            entry = await uow.waitlist.add(WaitlistEntry(
                patient_id=patient.id, account_id=account_id, organization_id=org.id,
                specialty_id=doctor.specialty.id, doctor_id=wanted, status=WaitlistStatus.WAITING,
                offers_used=0, queued_at=now,
            ))
            position = await uow.waitlist.position(entry)
            uow.audit.record(now, "waitlist.joined", actor=identity.telegram_id, account_id=account_id,
                             subject=f"entry:{entry.id}")
            await uow.commit()
        return Joined(entry.id, position, doctor, any_doctor)

    async def confirm(self, identity: Identity, offer_id: int) -> Appointment:
        """R11: books the held slot and ends the queue entry."""
        account_id = identity.require_account()
        now = self.clock.now()
        async with self.db.write() as uow:
            offer, entry = await self._own_offer(uow, account_id, offer_id)
            if offer.status != OfferStatus.PENDING or offer.expires_at <= now:
                raise OfferGone()
            patient = await own_person(uow, account_id, entry.patient_id)
            ensure_may_act(patient)
            slot = await uow.slots.get(offer.slot_id)
            assert slot is not None
            existing = await uow.appointments.future_with_doctor(patient.id, slot.doctor_id, now)
            if existing is not None:
                raise OnePerDoctor(existing.starts_at)
            if not await uow.waitlist.answer_offer(offer.id, OfferStatus.CONFIRMED, now):
                raise OfferGone()
            if not await uow.slots.take_held(slot.id, now):
                raise OfferGone()
            await uow.waitlist.set_status(entry.id, WaitlistStatus.BOOKED, expected=OPEN, now=now)
            appointment = await uow.appointments.add_portal(patient, account_id, slot, now)
            uow.audit.record(now, "offer.confirmed", actor=identity.telegram_id, account_id=account_id,
                             subject=f"offer:{offer.id}")
            await uow.commit()
            return appointment

    async def decline(self, identity: Identity, offer_id: int) -> Outcome:
        """R12: back to the queue in the same place; the time moves on to the next patient."""
        account_id = identity.require_account()
        now = self.clock.now()
        async with self.db.write() as uow:
            offer, _ = await self._own_offer(uow, account_id, offer_id)
            if not await uow.waitlist.answer_offer(offer.id, OfferStatus.DECLINED, now):
                raise OfferGone()
            outcome = await _close_offer(uow, offer, OfferStatus.DECLINED, now, self.defaults)
            uow.audit.record(now, "offer.declined", actor=identity.telegram_id, account_id=account_id,
                             subject=f"offer:{offer.id}")
            await uow.commit()
            return outcome

    async def offer_details(self, identity: Identity, offer_id: int) -> tuple[Offer, WaitlistEntry, datetime]:
        account_id = identity.require_account()
        async with self.db.read() as uow:
            offer, entry = await self._own_offer(uow, account_id, offer_id)
            slot = await uow.slots.get(offer.slot_id)
        assert slot is not None
        return offer, entry, slot.starts_at

    async def leave(self, identity: Identity, entry_id: int) -> None:
        """R14: «Отменить визит» on a queue entry; a held slot moves on at once."""
        account_id = identity.require_account()
        now = self.clock.now()
        async with self.db.write() as uow:
            entry = await uow.waitlist.entry(entry_id)
            if entry is None or entry.account_id != account_id:
                raise NotFound()
            held = [o.slot_id for o in await uow.waitlist.pending_offers_of_entries([entry.id])]
            if not await uow.waitlist.set_status(entry.id, WaitlistStatus.LEFT, expected=OPEN, now=now):
                raise NotFound()
            await uow.waitlist.void_pending_of_entry(entry.id, now)
            for slot_id in held:
                await release_held(uow, slot_id, now, self.defaults)
            uow.audit.record(now, "waitlist.left", actor=identity.telegram_id, account_id=account_id,
                             subject=f"entry:{entry.id}")
            await uow.commit()

    async def entries(self, identity: Identity, patient_ids: Sequence[int]) -> list[tuple[WaitlistEntry, Offer | None]]:
        """Open entries with their pending offer, for the card file (R11, R14)."""
        account_id = identity.require_account()
        async with self.db.read() as uow:
            entries = [e for e in await uow.waitlist.open_for_patients(patient_ids) if e.account_id == account_id]
            offers = {o.entry_id: o for o in await uow.waitlist.pending_offers_of_entries([e.id for e in entries])}
        return [(e, offers.get(e.id)) for e in entries]

    # --- the clock's jobs: each re-reads the database, so a missed tick or a restart loses nothing ---

    async def expire_due(self, limit: int = 100) -> int:
        """R15: an unanswered offer lapses, counts as a declined attempt, and the slot moves on."""
        now = self.clock.now()
        async with self.db.read() as uow:
            due = [o.id for o in await uow.waitlist.expired_offers(now, limit)]
        for offer_id in due:
            async with self.db.write() as uow:
                offer = await uow.waitlist.offer(offer_id)
                if offer is None or not await uow.waitlist.answer_offer(offer_id, OfferStatus.EXPIRED, now):
                    continue  # answered meanwhile
                await _close_offer(uow, offer, OfferStatus.EXPIRED, now, self.defaults)
                uow.audit.record(now, "offer.expired", subject=f"offer:{offer_id}")
                await uow.commit()
        return len(due)

    async def reconcile(self, limit: int = 50) -> int:
        """Free time that a waiting patient wants but was never offered (a crash, a direct import)."""
        now = self.clock.now()
        async with self.db.write() as uow:
            slot_ids = await uow.waitlist.free_slots_wanted(now + MIN_HOLD, now + self.horizon, limit)
            made = await offer_freed_slots(uow, slot_ids, now, self.defaults)
            await uow.commit()
        return made

    async def reachable_again(self, account_id: int, limit: int = 50) -> int:
        """The account's chat takes messages again (its user wrote after a 403): the free time its
        waiting entries were skipped for is offered now, each slot to whoever is first in line."""
        now = self.clock.now()
        async with self.db.write() as uow:
            slot_ids = await uow.waitlist.free_slots_wanted(now + MIN_HOLD, now + self.horizon, limit,
                                                            account_id=account_id)
            made = await offer_freed_slots(uow, slot_ids, now, self.defaults)
            await uow.commit()
        return made

    async def chat_unreachable(self, chat_id: int) -> None:
        """403 from Telegram: the patient cannot see offers, so pending ones move on at once.

        The attempt is not counted: the patient did not decline. The entry waits, skipped by
        matching until the patient talks to the bot again (``reachable_again``).
        """
        now = self.clock.now()
        async with self.db.write() as uow:
            user_accounts = await uow.login.accounts_of_chat(chat_id)
            unreachable = [a for a in user_accounts if not await uow.login.chats_of_account(a)]
            for offer in await uow.waitlist.pending_offers_of_accounts(unreachable):
                if await uow.waitlist.answer_offer(offer.id, OfferStatus.VOID, now):
                    await uow.waitlist.set_status(offer.entry_id, WaitlistStatus.WAITING,
                                                  expected=[WaitlistStatus.OFFERED])
                    await release_held(uow, offer.slot_id, now, self.defaults)
                    uow.audit.record(now, "offer.undeliverable", subject=f"offer:{offer.id}")
            await uow.commit()

    @staticmethod
    async def _own_offer(uow: UnitOfWork, account_id: int, offer_id: int) -> tuple[Offer, WaitlistEntry]:
        offer = await uow.waitlist.offer(offer_id)
        entry = await uow.waitlist.entry(offer.entry_id) if offer is not None else None
        if offer is None or entry is None or entry.account_id != account_id:
            raise NotFound()
        return offer, entry
