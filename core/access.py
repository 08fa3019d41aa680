"""Who may act, and for whom: the Telegram user, their consent (152-FZ), their account, logging
out, and the people of the card file an account may act for (R2).

Read from the database on every update: a log-out or a withdrawn consent on another bot instance
holds here on the next one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from core.clock import Clock
from core.enums import ModerationStatus
from core.errors import NotFound, PersonNotConfirmed
from core.identity import Identity, Staff
from storage.db import Database
from storage.models import Patient, TelegramUser
from storage.uow import UnitOfWork

# Called with the account of a user whose chat had answered 403 and who wrote again: the waitlist
# offers their entries the free time they were skipped for (a hook: the waitlist depends on this module).
ReachableAgain = Callable[[int], Awaitable[object]]


async def own_person(uow: UnitOfWork, account_id: int, patient_id: int, *, lock: bool = False) -> Patient:
    """A person of this account's card file; any other id (a forged button) is «not found».
    ``lock``: the person's other bookings wait for this transaction (see ``PatientRepo.owned_by``)."""
    patient = await uow.patients.owned_by(account_id, patient_id, lock=lock)
    if patient is None:
        raise NotFound()
    return patient


def ensure_may_act(patient: Patient) -> None:
    """R2: book, queue and cancel only for people whose data a moderator confirmed."""
    if patient.status != ModerationStatus.CONFIRMED:
        raise PersonNotConfirmed(patient.status, patient.rejection_reason)


class AccessService:
    def __init__(self, db: Database, clock: Clock, staff: Staff, consent_version: str,
                 on_reachable_again: ReachableAgain | None = None) -> None:
        self.db = db
        self.clock = clock
        self.staff = staff
        self.consent_version = consent_version
        self.on_reachable_again = on_reachable_again

    async def identify(self, telegram_id: int, chat_id: int) -> Identity:
        """Who sent this update. Any update proves the chat takes messages again after a 403: only
        then, rarely, is there a write."""
        async with self.db.read() as uow:
            found = await uow.login.who_is(telegram_id)
        consent, account_id, method, unreachable = found if found is not None else (None, None, None, False)
        consented = consent == self.consent_version
        cleared = unreachable and await self._reachable_again(telegram_id)
        if cleared and consented and account_id is not None and self.on_reachable_again is not None:
            await self.on_reachable_again(account_id)
        return Identity(
            telegram_id=telegram_id,
            chat_id=chat_id,
            consented=consented,
            # Nothing of the account is processed without consent to the policy in force.
            account_id=account_id if consented else None,
            auth_method=method,
            roles=self.staff.roles_of(telegram_id),
        )

    async def _reachable_again(self, telegram_id: int) -> bool:
        async with self.db.write() as uow:
            cleared = await uow.login.mark_reachable(telegram_id)
            if cleared:
                uow.audit.record(self.clock.now(), "chat.reachable_again", actor=telegram_id)
            await uow.commit()
        return cleared

    async def give_consent(self, telegram_id: int, chat_id: int) -> None:
        now = self.clock.now()
        async with self.db.write() as uow:
            user = await uow.login.user(telegram_id)
            if user is None:
                user = TelegramUser(id=telegram_id, chat_id=chat_id, created_at=now)
                uow.login.add_user(user)
            user.consent_version, user.consent_at, user.chat_id = self.consent_version, now, chat_id
            user.unreachable_at = None
            if user.account_id is not None:
                account = await uow.login.account(user.account_id)
                if account is not None:
                    account.consent_version, account.consent_at = self.consent_version, now
            uow.audit.record(now, "consent.given", actor=telegram_id, details={"version": self.consent_version})
            await uow.commit()

    async def logout(self, identity: Identity) -> bool:
        now = self.clock.now()
        async with self.db.write() as uow:
            user = await uow.login.user(identity.telegram_id)
            if user is None or user.account_id is None:
                return False
            uow.audit.record(now, "logout", actor=identity.telegram_id, account_id=user.account_id)
            user.account_id = None
            await uow.commit()
        return True
