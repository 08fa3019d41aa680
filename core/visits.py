"""Future and past visits per person of the card file (R20–R23)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from core.booking import AppointmentView
from core.catalog import DoctorInfo, OrgInfo, SpecialtyInfo, doctors_in, orgs_in, specialties_in
from core.clock import Clock
from core.cutoff import cancel_deadline
from core.enums import AppointmentSource, AppointmentStatus
from core.errors import NotFound
from core.identity import Identity
from core.rules import RuleDefaults, current
from core.visibility import scope
from storage.db import Database
from storage.models import Patient


@dataclass(frozen=True)
class PendingOffer:
    offer_id: int
    starts_at: datetime
    expires_at: datetime
    doctor: DoctorInfo


@dataclass(frozen=True)
class QueueView:
    entry_id: int
    specialty: SpecialtyInfo
    org: OrgInfo
    doctor: DoctorInfo | None  # None: any doctor of the specialty (R9)
    offers_used: int
    offer: PendingOffer | None  # R11: «Подтвердить» shows on the row while this is set
    position: int  # the place in the queue, as told on joining (R12)


@dataclass
class PersonVisits:
    patient: Patient
    future: list[AppointmentView] = field(default_factory=list)
    past: list[AppointmentView] = field(default_factory=list)
    queue: list[QueueView] = field(default_factory=list)


class VisitsService:
    def __init__(self, db: Database, clock: Clock, rule_defaults: RuleDefaults | None = None) -> None:
        self.db = db
        self.clock = clock
        self.rule_defaults = rule_defaults or RuleDefaults()

    async def overview(self, identity: Identity) -> list[PersonVisits]:
        account_id = identity.require_account()
        assert identity.auth_method is not None
        now = self.clock.now()
        async with self.db.read() as uow:
            people = await uow.patients.of_account(account_id)
            visible = scope(account_id, identity.auth_method, people)
            appointments = await uow.appointments.visible(account_id, visible.patient_ids, visible.owner_identity)
            rules = await current(uow, self.rule_defaults)
            entries = [e for e in await uow.waitlist.open_for_patients(visible.patient_ids)
                       if e.account_id == account_id]
            positions = {e.id: await uow.waitlist.position(e) for e in entries}  # a card file holds a few
            offers = await uow.waitlist.pending_offers_of_entries([e.id for e in entries])
            slots = await uow.slots.by_ids([o.slot_id for o in offers])  # one query, not one per offer
            doctors = await doctors_in(uow, {a.doctor_id for a in appointments} | {s.doctor_id for s in slots.values()}
                                       | {e.doctor_id for e in entries if e.doctor_id is not None})
            orgs = await orgs_in(uow, {e.organization_id for e in entries})
            specialties = await specialties_in(uow, {e.specialty_id for e in entries})
        cards = {p.id: PersonVisits(p) for p in people}
        for a in appointments:
            # Imported ones carry no patient id: they are the ESIA owner's, matched by policy or SNILS.
            # Not one of this card file's own bookings: it matched the ESIA owner's policy or SNILS (R22).
            card = cards.get(a.patient_id) if a.patient_id in cards else cards.get(visible.owner_id or -1)
            doctor = doctors.get(a.doctor_id)
            if card is None or doctor is None:  # a doctor the clinic no longer lists
                continue
            made_here = a.made_by_account_id == account_id and a.source == AppointmentSource.PORTAL
            deadline = cancel_deadline(a.starts_at, doctor.org.timezone, rules.cancel_cutoff) if made_here else None
            view = AppointmentView(a.id, card.patient.id, card.patient.full_name, doctor, a.starts_at, a.source,
                                   a.status, made_here, deadline)
            if a.status != AppointmentStatus.ACTIVE:
                continue
            (card.future if a.starts_at > now else card.past).append(view)
        offer_of = {o.entry_id: o for o in offers}
        for e in entries:
            card = cards.get(e.patient_id)
            if card is None:
                continue
            pending = None
            offer = offer_of.get(e.id)
            slot = slots.get(offer.slot_id) if offer is not None else None
            if offer is not None and slot is not None and slot.doctor_id in doctors:
                pending = PendingOffer(offer.id, slot.starts_at, offer.expires_at, doctors[slot.doctor_id])
            card.queue.append(QueueView(
                e.id, specialties[e.specialty_id], orgs[e.organization_id],
                doctors.get(e.doctor_id) if e.doctor_id is not None else None, e.offers_used, pending,
                positions[e.id]))
        for card in cards.values():
            card.past.reverse()  # the most recent visit first
        return list(cards.values())

    async def of_person(self, identity: Identity, patient_id: int) -> PersonVisits:
        for card in await self.overview(identity):
            if card.patient.id == patient_id:
                return card
        raise NotFound()
