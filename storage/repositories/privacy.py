"""Everything stored about one account, read whole for «Мои данные» and erased for its deletion."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import AppointmentStatus, OfferStatus, OutboxStatus
from storage.models import (
    Account,
    Appointment,
    EsiaLoginState,
    LoginCode,
    Offer,
    OutboxMessage,
    Patient,
    TelegramUser,
    WaitlistEntry,
)

# Bulk statements: the rows they touch are not used again in the transaction.
BULK = {"synchronize_session": False}


class PrivacyRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- reading ---

    async def people(self, account_id: int, *, lock: bool = False) -> list[Patient]:
        """The card file, people removed from it included: their rows still hold their data.
        ``lock``: on PostgreSQL a booking for one of them (which locks the person) waits for us."""
        query = select(Patient).where(Patient.account_id == account_id).order_by(Patient.is_owner.desc(), Patient.id)
        return list(await self.session.scalars(query.with_for_update() if lock else query))

    async def appointments(self, account_id: int, patient_ids: Sequence[int]) -> list[Appointment]:
        """Made under the account, or for one of its people."""
        return list(await self.session.scalars(
            select(Appointment).where(self._of(account_id, patient_ids)).order_by(Appointment.starts_at)))

    async def upcoming(self, account_id: int, patient_ids: Sequence[int], now: datetime) -> list[Appointment]:
        return list(await self.session.scalars(
            select(Appointment).where(self._of(account_id, patient_ids),
                                      Appointment.status == AppointmentStatus.ACTIVE, Appointment.starts_at > now)
            .order_by(Appointment.starts_at)))

    async def queue_entries(self, account_id: int) -> list[WaitlistEntry]:
        return list(await self.session.scalars(
            select(WaitlistEntry).where(WaitlistEntry.account_id == account_id).order_by(WaitlistEntry.queued_at)))

    async def offers(self, entry_ids: Sequence[int]) -> list[Offer]:
        if not entry_ids:
            return []
        return list(await self.session.scalars(
            select(Offer).where(Offer.entry_id.in_(entry_ids)).order_by(Offer.created_at, Offer.id)))

    async def telegram_users(self, account_id: int) -> list[TelegramUser]:
        return list(await self.session.scalars(
            select(TelegramUser).where(TelegramUser.account_id == account_id).order_by(TelegramUser.id)))

    # --- erasing ---

    async def anonymise_appointments(self, account_id: int, patient_ids: Sequence[int]) -> None:
        """The visit stays in the clinic's schedule history; nothing in it names the person any more."""
        await self.session.execute(
            update(Appointment).where(self._of(account_id, patient_ids))
            .values(patient_id=None, made_by_account_id=None, patient_oms=None, patient_snils=None)
            .execution_options(**BULK))

    async def void_pending_offers(self, entry_ids: Sequence[int], now: datetime) -> list[int]:
        """Ends the entries' pending offers; returns the slots they were holding."""
        held = [o.slot_id for o in await self.offers(entry_ids) if o.status == OfferStatus.PENDING]
        if held:
            await self.session.execute(
                update(Offer).where(Offer.entry_id.in_(entry_ids), Offer.status == OfferStatus.PENDING)
                .values(status=OfferStatus.VOID, answered_at=now).execution_options(**BULK))
        return held

    async def delete_queue(self, account_id: int) -> None:
        entries = select(WaitlistEntry.id).where(WaitlistEntry.account_id == account_id)
        await self.session.execute(delete(Offer).where(Offer.entry_id.in_(entries)).execution_options(**BULK))
        await self.session.execute(
            delete(WaitlistEntry).where(WaitlistEntry.account_id == account_id).execution_options(**BULK))

    async def delete_people(self, account_id: int) -> None:
        await self.session.execute(delete(Patient).where(Patient.account_id == account_id).execution_options(**BULK))

    async def delete_login_secrets(self, telegram_ids: Sequence[int], email: str | None) -> None:
        """E-mail codes (they carry the address) and ESIA log-in states of these Telegram users."""
        codes: list[ColumnElement[bool]] = [LoginCode.telegram_user_id.in_(telegram_ids)]
        if email:
            codes.append(LoginCode.email == email)
        await self.session.execute(delete(LoginCode).where(or_(*codes)).execution_options(**BULK))
        await self.session.execute(
            delete(EsiaLoginState).where(EsiaLoginState.telegram_user_id.in_(telegram_ids)).execution_options(**BULK))

    async def delete_messages_about(self, patient_ids: Sequence[int]) -> None:
        """Outbox rows, sent or not, whose payload names one of these people (moderation requests
        carry the person's data)."""
        if patient_ids:
            await self.session.execute(
                delete(OutboxMessage).where(OutboxMessage.payload["patient_id"].as_integer().in_(patient_ids))
                .execution_options(**BULK))

    async def delete_pending_messages(self, chat_id: int, kinds: Sequence[str]) -> None:
        await self.session.execute(
            delete(OutboxMessage).where(OutboxMessage.chat_id == chat_id, OutboxMessage.kind.in_(kinds),
                                        OutboxMessage.status == OutboxStatus.PENDING).execution_options(**BULK))

    async def delete_telegram_user(self, telegram_id: int) -> None:
        await self.session.execute(delete(TelegramUser).where(TelegramUser.id == telegram_id).execution_options(**BULK))

    async def unlink_telegram_users(self, account_id: int) -> None:
        await self.session.execute(
            update(TelegramUser).where(TelegramUser.account_id == account_id).values(account_id=None)
            .execution_options(**BULK))

    async def delete_account(self, account_id: int) -> None:
        await self.session.execute(delete(Account).where(Account.id == account_id).execution_options(**BULK))

    @staticmethod
    def _of(account_id: int, patient_ids: Sequence[int]) -> ColumnElement[bool]:
        return or_(Appointment.made_by_account_id == account_id, Appointment.patient_id.in_(patient_ids))
