from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import OfferStatus, SlotStatus, WaitlistStatus
from storage.models import Doctor, Offer, Slot, TelegramUser, WaitlistEntry

OPEN = (WaitlistStatus.WAITING, WaitlistStatus.OFFERED)


def _changed(result: object) -> bool:
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


class WaitlistRepo:
    """Queue entries and offers (R8–R15). Every transition is a conditional UPDATE that acts once."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- entries ---

    async def add(self, entry: WaitlistEntry) -> WaitlistEntry:
        self.session.add(entry)
        await self.session.flush()
        return entry

    async def entry(self, entry_id: int) -> WaitlistEntry | None:
        return await self.session.get(WaitlistEntry, entry_id)

    async def open_duplicate(self, patient_id: int, organization_id: int, specialty_id: int,
                             doctor_id: int | None) -> WaitlistEntry | None:
        doctor_match = WaitlistEntry.doctor_id.is_(None) if doctor_id is None else WaitlistEntry.doctor_id == doctor_id
        return await self.session.scalar(
            select(WaitlistEntry).where(
                WaitlistEntry.patient_id == patient_id, WaitlistEntry.status.in_(OPEN),
                WaitlistEntry.organization_id == organization_id, WaitlistEntry.specialty_id == specialty_id,
                doctor_match,
            ).limit(1)
        )

    async def open_for_patients(self, patient_ids: Sequence[int]) -> list[WaitlistEntry]:
        if not patient_ids:
            return []
        rows = await self.session.scalars(
            select(WaitlistEntry)
            .where(WaitlistEntry.patient_id.in_(patient_ids), WaitlistEntry.status.in_(OPEN))
            .order_by(WaitlistEntry.queued_at)
        )
        return list(rows)

    async def position(self, entry: WaitlistEntry) -> int:
        """1 + open entries queued earlier that compete for the same time."""
        conditions = [
            WaitlistEntry.status.in_(OPEN),
            WaitlistEntry.organization_id == entry.organization_id,
            WaitlistEntry.specialty_id == entry.specialty_id,
            WaitlistEntry.queued_at < entry.queued_at,
        ]
        if entry.doctor_id is not None:
            conditions.append(or_(WaitlistEntry.doctor_id.is_(None), WaitlistEntry.doctor_id == entry.doctor_id))
        ahead = await self.session.scalar(select(func.count()).select_from(WaitlistEntry).where(*conditions))
        return int(ahead or 0) + 1

    async def first_for_slot(self, slot_id: int, doctor_id: int, organization_id: int,
                             specialty_id: int) -> WaitlistEntry | None:
        """R10: the earliest waiting patient who wants this doctor (or any of the specialty there),
        has not had this very slot offered before, and can still be reached on Telegram.

        A void offer does not count as offered: the patient never answered it (their chat answered
        403, or the slot left the schedule), so the time may come to them again."""
        already_offered = exists().where(Offer.entry_id == WaitlistEntry.id, Offer.slot_id == slot_id,
                                         Offer.status != OfferStatus.VOID)
        reachable = exists().where(TelegramUser.account_id == WaitlistEntry.account_id,
                                   TelegramUser.unreachable_at.is_(None))
        return await self.session.scalar(
            select(WaitlistEntry)
            .where(
                WaitlistEntry.status == WaitlistStatus.WAITING,
                WaitlistEntry.organization_id == organization_id,
                WaitlistEntry.specialty_id == specialty_id,
                or_(WaitlistEntry.doctor_id == doctor_id, WaitlistEntry.doctor_id.is_(None)),
                ~already_offered,
                reachable,
            )
            .order_by(WaitlistEntry.queued_at, WaitlistEntry.id)
            .limit(1)
        )

    async def set_status(self, entry_id: int, new: WaitlistStatus, *, expected: Sequence[WaitlistStatus],
                         now: datetime | None = None, used_offer: bool = False) -> bool:
        values: dict[str, object] = {"status": new}
        if new not in OPEN:
            values["closed_at"] = now
        if used_offer:
            values["offers_used"] = WaitlistEntry.offers_used + 1
        result = await self.session.execute(
            update(WaitlistEntry).where(WaitlistEntry.id == entry_id, WaitlistEntry.status.in_(expected))
            .values(**values)
        )
        return _changed(result)

    async def close_all_for_patient(self, patient_id: int, now: datetime) -> list[int]:
        """Closes the person's open entries; returns the slots their pending offers were holding."""
        entries = [e.id for e in await self.open_for_patients([patient_id])]
        held = [o.slot_id for o in await self.pending_offers_of_entries(entries)]
        for entry_id in entries:
            await self.set_status(entry_id, WaitlistStatus.LEFT, expected=OPEN, now=now)
            await self.void_pending_of_entry(entry_id, now)
        return held

    async def anyone_waiting(self) -> bool:
        found = await self.session.scalar(
            select(WaitlistEntry.id).where(WaitlistEntry.status == WaitlistStatus.WAITING).limit(1))
        return found is not None

    # --- offers ---

    async def add_offer(self, offer: Offer) -> Offer:
        self.session.add(offer)
        await self.session.flush()
        return offer

    async def offer(self, offer_id: int) -> Offer | None:
        return await self.session.get(Offer, offer_id)

    async def pending_offers_of_entries(self, entry_ids: Sequence[int]) -> list[Offer]:
        if not entry_ids:
            return []
        rows = await self.session.scalars(
            select(Offer).where(Offer.entry_id.in_(entry_ids), Offer.status == OfferStatus.PENDING))
        return list(rows)

    async def answer_offer(self, offer_id: int, new: OfferStatus, now: datetime) -> bool:
        result = await self.session.execute(
            update(Offer).where(Offer.id == offer_id, Offer.status == OfferStatus.PENDING)
            .values(status=new, answered_at=now)
        )
        return _changed(result)

    async def void_pending_of_entry(self, entry_id: int, now: datetime) -> None:
        await self.session.execute(
            update(Offer).where(Offer.entry_id == entry_id, Offer.status == OfferStatus.PENDING)
            .values(status=OfferStatus.VOID, answered_at=now)
        )

    async def expired_offers(self, now: datetime, limit: int) -> list[Offer]:
        rows = await self.session.scalars(
            select(Offer).where(Offer.status == OfferStatus.PENDING, Offer.expires_at <= now)
            .order_by(Offer.expires_at).limit(limit)
        )
        return list(rows)

    async def pending_offers_of_accounts(self, account_ids: Sequence[int]) -> list[Offer]:
        if not account_ids:
            return []
        rows = await self.session.scalars(
            select(Offer).join(WaitlistEntry, WaitlistEntry.id == Offer.entry_id)
            .where(WaitlistEntry.account_id.in_(account_ids), Offer.status == OfferStatus.PENDING)
        )
        return list(rows)

    async def free_slots_wanted(self, after: datetime, before: datetime, limit: int,
                                account_id: int | None = None) -> list[int]:
        """Free future slots that some waiting entry (of ``account_id``, if given) matches: what the
        reconcile job offers."""
        of_account = [] if account_id is None else [WaitlistEntry.account_id == account_id]
        wanted = exists().where(
            *of_account,
            WaitlistEntry.status == WaitlistStatus.WAITING,
            WaitlistEntry.organization_id == Doctor.organization_id,
            WaitlistEntry.specialty_id == Doctor.specialty_id,
            or_(WaitlistEntry.doctor_id == Doctor.id, WaitlistEntry.doctor_id.is_(None)),
        )
        rows = await self.session.scalars(
            select(Slot.id).join(Doctor, Doctor.id == Slot.doctor_id)
            .where(and_(Slot.status == SlotStatus.FREE, Slot.starts_at > after, Slot.starts_at < before), wanted)
            .order_by(Slot.starts_at).limit(limit)
        )
        return list(rows)
