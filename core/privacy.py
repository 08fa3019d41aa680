"""Personal-data rights (152-FZ): see what is stored about the account, withdraw consent, delete
the account. What each one keeps and erases is written down in docs/privacy.md."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime

from core.account_data import AccountData, ChatRecord, OfferRecord, PersonRecord, QueueRecord, VisitRecord
from core.booking import cancel_own
from core.clock import Clock
from core.cutoff import cancel_deadline
from core.enums import OfferStatus, WaitlistStatus
from core.errors import AlreadyCancelled, DomainError, NotFound
from core.identity import Identity
from core.notify import Kind
from core.rules import RuleDefaults, current
from core.waitlist import offer_freed_slots, release_held
from storage.db import Database
from storage.models import Appointment, Doctor, Organization, Specialty
from storage.uow import UnitOfWork

# Messages to a patient's chat that stop with their consent; staff messages to a moderator do not.
PATIENT_KINDS = (Kind.MODERATION_RESULT, Kind.OFFER, Kind.OFFER_LAPSED, Kind.QUEUE_EXHAUSTED,
                 Kind.APPOINTMENT_WITHDRAWN, Kind.REMINDER)


@dataclass(frozen=True)
class UpcomingVisit:
    appointment_id: int
    patient_name: str | None
    doctor: str
    organization: str
    phone: str | None  # the registry's, for a visit that can no longer be cancelled here
    timezone: str
    starts_at: datetime
    cancel_deadline: datetime
    cancellable: bool  # before the cutoff (R17) when the list was read


class HasUpcomingVisits(DomainError):
    """Deleting the account would cancel these visits: the patient must see them and agree."""

    def __init__(self, visits: tuple[UpcomingVisit, ...]) -> None:
        super().__init__(len(visits))
        self.visits = visits


class VisitsPastCutoff(DomainError):
    """R17: some visits can no longer be cancelled, so the account cannot be deleted yet."""

    def __init__(self, visits: tuple[UpcomingVisit, ...]) -> None:
        super().__init__(len(visits))
        self.visits = visits


@dataclass(frozen=True)
class Deleted:
    cancelled: int  # visits cancelled with the account
    unlinked: tuple[tuple[int, int], ...]  # (Telegram user, chat) logged in to it: their forms go too


class PrivacyService:
    def __init__(self, db: Database, clock: Clock, rule_defaults: RuleDefaults | None = None) -> None:
        self.db = db
        self.clock = clock
        self.defaults = rule_defaults or RuleDefaults()

    async def export(self, identity: Identity) -> AccountData:
        """Everything stored about the account: «Мои данные»."""
        account_id = identity.require_account()
        async with self.db.read() as uow:
            account = await uow.login.account(account_id)
            if account is None:
                raise NotFound()
            people = await uow.privacy.people(account_id)
            appointments = await uow.privacy.appointments(account_id, [p.id for p in people])
            entries = await uow.privacy.queue_entries(account_id)
            offers = await uow.privacy.offers([e.id for e in entries])
            slots = await uow.slots.by_ids([o.slot_id for o in offers])
            users = await uow.privacy.telegram_users(account_id)
            names = _Names(uow)
            visits = [VisitRecord(a.id, a.patient_id, *await names.doctor(a.doctor_id), a.starts_at, a.source,
                                  a.status, a.created_at, a.cancelled_at) for a in appointments]
            queue = []
            for e in entries:
                org, _, _ = await names.organization(e.organization_id)
                doctor = (await names.doctor(e.doctor_id))[0] if e.doctor_id is not None else None
                queue.append(QueueRecord(
                    e.id, e.patient_id, await names.specialty(e.specialty_id), org, doctor, e.status,
                    e.offers_used, e.queued_at, e.closed_at,
                    tuple(OfferRecord(o.id, slots[o.slot_id].starts_at if o.slot_id in slots else None, o.status,
                                      o.created_at, o.expires_at, o.answered_at)
                          for o in offers if o.entry_id == e.id)))
        return AccountData(
            account.id, account.auth_method, account.email, account.esia_subject, account.consent_version,
            account.consent_at, account.created_at, account.last_login_at,
            tuple(PersonRecord(p.id, p.is_owner, p.last_name, p.first_name, p.middle_name, p.birth_date, p.sex,
                               p.oms_policy, p.snils, p.phone, p.status, p.rejection_reason, p.submitted_at,
                               p.decided_at, p.removed_at) for p in people),
            tuple(visits), tuple(queue),
            tuple(ChatRecord(u.id, u.chat_id, u.consent_version, u.consent_at, u.created_at, u.unreachable_at)
                  for u in users))

    async def upcoming(self, identity: Identity) -> tuple[UpcomingVisit, ...]:
        """The visits that deleting the account would cancel, for the warning before it."""
        account_id = identity.require_account()
        async with self.db.read() as uow:
            return await self._upcoming(uow, account_id, self.clock.now())

    async def delete_account(self, identity: Identity, visits_seen: int) -> Deleted:
        """Cancels the upcoming visits (the patient saw ``visits_seen`` of them and agreed) through the
        cancel path's steps, so the freed time goes to the waitlist (R10); then erases the account."""
        account_id = identity.require_account()
        now = self.clock.now()
        async with self.db.write() as uow:
            await uow.login.lock_account(account_id)  # the account's other chats wait; then find nothing
            account = await uow.login.account(account_id)
            if account is None:
                raise NotFound()
            await uow.privacy.people(account_id, lock=True)  # no booking for them slips in unlisted
            visits = await self._upcoming(uow, account_id, now)
            late = tuple(v for v in visits if not v.cancellable)
            if late:
                raise VisitsPastCutoff(late)
            if len(visits) != visits_seen:
                raise HasUpcomingVisits(visits)  # booked or cancelled meanwhile: show the list again
            people = [p.id for p in await uow.privacy.people(account_id)]
            entries = [e.id for e in await uow.privacy.queue_entries(account_id)]
            # The account's own queue goes first, so the time freed below is not offered back to it.
            held = await uow.privacy.void_pending_offers(entries, now)
            await uow.privacy.delete_queue(account_id)
            freed: list[int] = []
            for visit in visits:
                await self._cancel(uow, visit.appointment_id, now, freed)
            users = await uow.privacy.telegram_users(account_id)
            await uow.privacy.anonymise_appointments(account_id, people)
            await uow.privacy.delete_messages_about(people)
            await uow.privacy.delete_login_secrets([u.id for u in users] + [identity.telegram_id], account.email)
            await uow.privacy.unlink_telegram_users(account_id)
            # Whoever deleted it consents again before the bot stores anything of theirs.
            await uow.privacy.delete_pending_messages(identity.chat_id, PATIENT_KINDS)
            await uow.privacy.delete_telegram_user(identity.telegram_id)
            await uow.privacy.delete_people(account_id)
            await uow.privacy.delete_account(account_id)
            for slot_id in held:
                await release_held(uow, slot_id, now, self.defaults)
            await offer_freed_slots(uow, freed, now, self.defaults)
            uow.audit.record(now, "account.deleted", actor=identity.telegram_id, account_id=account_id,
                             details={"cancelled": len(visits), "people": len(people)})
            await uow.commit()
        return Deleted(len(visits), tuple((u.id, u.chat_id) for u in users))

    async def withdraw_consent(self, identity: Identity) -> None:
        """Stops processing for this Telegram user: consent, the account link, log-in secrets and
        messages not yet sent are gone; the account itself stays until it is deleted."""
        now = self.clock.now()
        async with self.db.write() as uow:
            user = await uow.login.user(identity.telegram_id)
            if user is None:
                return
            account_id = user.account_id
            await uow.privacy.delete_login_secrets([user.id], None)
            await uow.privacy.delete_pending_messages(user.chat_id, PATIENT_KINDS)
            await uow.privacy.delete_telegram_user(user.id)
            if account_id is not None and not await uow.login.chats_of_account(account_id):
                await self._release_offers(uow, account_id, now)  # nobody left to answer them
            uow.audit.record(now, "consent.withdrawn", actor=identity.telegram_id, account_id=account_id)
            await uow.commit()

    async def _upcoming(self, uow: UnitOfWork, account_id: int, now: datetime) -> tuple[UpcomingVisit, ...]:
        people = {p.id: p for p in await uow.privacy.people(account_id)}
        rules = await current(uow, self.defaults)
        names = _Names(uow)
        visits = []
        for a in await uow.privacy.upcoming(account_id, list(people), now):
            doctor, _, org, timezone = await names.doctor(a.doctor_id)
            phone = (await names.organization_of(a.doctor_id))[2]
            person = people.get(a.patient_id) if a.patient_id is not None else None
            deadline = cancel_deadline(a.starts_at, timezone, rules.cancel_cutoff)
            visits.append(UpcomingVisit(a.id, person.full_name if person else None, doctor, org, phone, timezone,
                                        a.starts_at, deadline, now < deadline))
        return tuple(visits)

    @staticmethod
    async def _cancel(uow: UnitOfWork, appointment_id: int, now: datetime, freed: list[int]) -> None:
        """The cancel's own writes (``core.booking.cancel_own``), inside the deletion's transaction."""
        appointment: Appointment | None = await uow.appointments.get(appointment_id)
        if appointment is None:
            return
        with contextlib.suppress(AlreadyCancelled):  # cancelled meanwhile: nothing left to free
            slot_id = await cancel_own(uow, appointment, now)
            if slot_id is not None:
                freed.append(slot_id)

    async def _release_offers(self, uow: UnitOfWork, account_id: int, now: datetime) -> None:
        """As for a chat that blocked the bot: the held time moves on, the entry waits unattempted."""
        for offer in await uow.waitlist.pending_offers_of_accounts([account_id]):
            if await uow.waitlist.answer_offer(offer.id, OfferStatus.VOID, now):
                await uow.waitlist.set_status(offer.entry_id, WaitlistStatus.WAITING,
                                              expected=[WaitlistStatus.OFFERED])
                await release_held(uow, offer.slot_id, now, self.defaults)


class _Names:
    """Doctors, clinics and specialties by id, read once each, whether the clinic still lists them or not."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.doctors: dict[int, Doctor | None] = {}
        self.orgs: dict[int, Organization | None] = {}
        self.specialties: dict[int, Specialty | None] = {}

    async def doctor(self, doctor_id: int) -> tuple[str, str, str, str]:
        """Name, specialty, organization, its time zone."""
        doctor = await self._doctor(doctor_id)
        if doctor is None:
            return "—", "—", "—", "UTC"
        org, timezone, _ = await self.organization(doctor.organization_id)
        return doctor.full_name, await self.specialty(doctor.specialty_id), org, timezone

    async def organization_of(self, doctor_id: int) -> tuple[str, str, str | None]:
        doctor = await self._doctor(doctor_id)
        return await self.organization(doctor.organization_id) if doctor else ("—", "UTC", None)

    async def organization(self, organization_id: int) -> tuple[str, str, str | None]:
        if organization_id not in self.orgs:
            self.orgs[organization_id] = await self.uow.clinic.organization(organization_id)
        org = self.orgs[organization_id]
        return (org.name, org.timezone, org.phone) if org else ("—", "UTC", None)

    async def specialty(self, specialty_id: int) -> str:
        if specialty_id not in self.specialties:
            found = await self.uow.clinic.specialties_by_id({specialty_id})
            self.specialties[specialty_id] = found[0] if found else None
        specialty = self.specialties[specialty_id]
        return specialty.name if specialty else "—"

    async def _doctor(self, doctor_id: int) -> Doctor | None:
        if doctor_id not in self.doctors:
            self.doctors[doctor_id] = await self.uow.clinic.doctor(doctor_id)
        return self.doctors[doctor_id]
