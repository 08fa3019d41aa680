"""Identifying the Telegram user, consent (152-FZ) and logging out."""

from __future__ import annotations

from core.clock import Clock
from core.identity import Identity, IdentityCache, Staff
from core.people_cache import PeopleCache
from storage.db import Database
from storage.models import TelegramUser
from storage.repositories.login import who_is


class AccessService:
    def __init__(self, db: Database, clock: Clock, staff: Staff, consent_version: str,
                 cache: IdentityCache | None = None, people: PeopleCache | None = None) -> None:
        self.db = db
        self.clock = clock
        self.staff = staff
        self.consent_version = consent_version
        self.cache = cache  # shared with the log-in services, which forget whom they change
        # A patient's first update reads their card file too, in the same read: nearly every screen
        # after it (booking, the card file, visits) shows its people.
        self.people = people

    async def identify(self, telegram_id: int, chat_id: int) -> Identity:
        if self.cache is None:
            return await self._load(telegram_id, chat_id)
        cached = self.cache.get(telegram_id)
        if cached is not None and cached.chat_id == chat_id:
            return cached
        identity = await self._load(telegram_id, chat_id)
        self.cache.put(identity)
        return identity

    def _forget(self, telegram_id: int) -> None:
        if self.cache is not None:
            self.cache.forget(telegram_id)

    async def _load(self, telegram_id: int, chat_id: int) -> Identity:
        epoch = self.people.epoch if self.people is not None else 0
        found = await who_is(self.db, telegram_id, self.consent_version)
        consented = found is not None and found.consent_version == self.consent_version
        account_id = found.account_id if found is not None and consented else None
        if self.people is not None and found is not None and account_id is not None:
            self.people.keep(account_id, epoch, found.people)
        return Identity(
            telegram_id=telegram_id,
            chat_id=chat_id,
            consented=consented,
            account_id=account_id,
            auth_method=found.auth_method if found is not None else None,
            roles=self.staff.roles_of(telegram_id),
        )

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
        self._forget(telegram_id)

    async def withdraw_consent(self, identity: Identity) -> None:
        """Withdrawing consent also logs out: nothing more is processed for this user."""
        now = self.clock.now()
        async with self.db.write() as uow:
            user = await uow.login.user(identity.telegram_id)
            if user is not None:
                user.consent_version, user.consent_at, user.account_id = None, None, None
                uow.audit.record(now, "consent.withdrawn", actor=identity.telegram_id,
                                 account_id=identity.account_id)
                await uow.commit()
        self._forget(identity.telegram_id)

    async def logout(self, identity: Identity) -> bool:
        now = self.clock.now()
        async with self.db.write() as uow:
            user = await uow.login.user(identity.telegram_id)
            if user is None or user.account_id is None:
                return False
            uow.audit.record(now, "logout", actor=identity.telegram_id, account_id=user.account_id)
            user.account_id = None
            await uow.commit()
        self._forget(identity.telegram_id)
        return True
