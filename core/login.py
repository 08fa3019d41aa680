"""Log-in (R1, R3): a one-time code by e-mail, or ESIA through an OpenID Connect provider."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from core import validation
from core.clock import Clock
from core.enums import AuthMethod, ModerationStatus
from core.errors import (
    CodeExpired,
    CodeWrong,
    ConsentRequired,
    LoginStateInvalid,
    ResendTooSoon,
    TooManyAttempts,
)
from core.identity import Identity
from core.ports import EmailSender, EsiaField, EsiaPerson, IdentityProvider
from storage.db import Database
from storage.models import Account, EsiaLoginState, LoginCode, Patient
from storage.repositories.login import new_account
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class CodePolicy:
    ttl: timedelta = timedelta(minutes=10)
    max_attempts: int = 5
    resend_after: timedelta = timedelta(seconds=60)
    max_per_hour: int = 5
    # The same e-mail address from all Telegram users together: codes sent, wrong codes typed.
    max_per_email_per_hour: int = 10
    max_wrong_per_email_per_hour: int = 20


@dataclass(frozen=True)
class LoginResult:
    account_id: int
    method: AuthMethod
    has_owner: bool
    from_esia: tuple[EsiaField, ...] = ()  # the owner's fields ESIA filled in this log-in


@dataclass(frozen=True)
class CodeSent:
    email: str
    expires_at: datetime


async def _link(uow: UnitOfWork, telegram_id: int, account: Account, now: datetime) -> None:
    user = await uow.login.user(telegram_id)
    if user is None or user.consent_version is None:
        raise ConsentRequired()
    user.account_id = account.id
    account.last_login_at = now
    account.consent_version, account.consent_at = user.consent_version, user.consent_at


class EmailLogin:
    def __init__(self, db: Database, clock: Clock, sender: EmailSender, secret: str,
                 policy: CodePolicy | None = None) -> None:
        self.db = db
        self.clock = clock
        self.sender = sender
        self.secret = secret.encode()
        self.policy = policy or CodePolicy()

    def _hash(self, telegram_id: int, code: str) -> str:
        return hmac.new(self.secret, f"{telegram_id}:{code}".encode(), hashlib.sha256).hexdigest()

    async def request_code(self, identity: Identity, raw_email: str) -> CodeSent:
        identity.require_consent()
        email = validation.email(raw_email)
        now = self.clock.now()
        code = f"{secrets.randbelow(1_000_000):06d}"
        async with self.db.write() as uow:
            # Serializes parallel requests of one user (PostgreSQL; SQLite writes are serial anyway).
            await uow.login.lock_user(identity.telegram_id)
            latest = await uow.login.latest_code(identity.telegram_id)
            if latest is not None and latest.created_at + self.policy.resend_after > now:
                wait = latest.created_at + self.policy.resend_after - now
                raise ResendTooSoon(int(wait.total_seconds()) + 1)
            sent = await uow.login.codes_sent_since(identity.telegram_id, now - timedelta(hours=1))
            if sent >= self.policy.max_per_hour:
                raise ResendTooSoon(3600)
            # Many chats asking codes for one mailbox: flooding it, or guessing past the per-chat limits.
            to_email = await uow.login.codes_to_email_since(email, now - timedelta(hours=1))
            if to_email >= self.policy.max_per_email_per_hour:
                raise ResendTooSoon(3600)
            expires_at = now + self.policy.ttl
            uow.login.add_code(LoginCode(
                telegram_user_id=identity.telegram_id, email=email, code_hash=self._hash(identity.telegram_id, code),
                attempts=0, created_at=now, expires_at=expires_at,
            ))
            uow.audit.record(now, "login.code_requested", actor=identity.telegram_id)
            await uow.commit()
        # Sent after the commit: a failed send leaves a code nobody knows, never an unrecorded one.
        await self.sender.send_login_code(email, code, int(self.policy.ttl.total_seconds() // 60))
        return CodeSent(email=email, expires_at=expires_at)

    async def resend(self, identity: Identity) -> CodeSent:
        async with self.db.read() as uow:
            latest = await uow.login.latest_code(identity.telegram_id)
        if latest is None:
            raise CodeExpired()
        return await self.request_code(identity, latest.email)

    async def verify(self, identity: Identity, raw_code: str) -> LoginResult:
        identity.require_consent()
        code = raw_code.strip().replace(" ", "")
        now = self.clock.now()
        async with self.db.write() as uow:
            latest = await uow.login.latest_code(identity.telegram_id)
            if latest is None or latest.used_at is not None or latest.expires_at <= now:
                raise CodeExpired()
            # Guesses at one address from all chats together: many chats do not buy more tries.
            wrong = await uow.login.wrong_tries_for_email_since(latest.email, now - timedelta(hours=1))
            if wrong >= self.policy.max_wrong_per_email_per_hour:
                raise TooManyAttempts()
            # Every try is counted before the code is compared, in one conditional UPDATE: parallel
            # guesses cannot all slip in under the limit.
            used = await uow.login.count_attempt(latest.id, self.policy.max_attempts)
            if used is None:
                raise TooManyAttempts()
            if not hmac.compare_digest(latest.code_hash, self._hash(identity.telegram_id, code)):
                uow.audit.record(now, "login.code_wrong", actor=identity.telegram_id)
                await uow.commit()
                left = self.policy.max_attempts - used
                if left <= 0:
                    raise TooManyAttempts()
                raise CodeWrong(left)
            if not await uow.login.use_code(latest.id, now):
                raise CodeExpired()
            account = await uow.login.account_by_email(latest.email) or await uow.login.add_account_once(
                new_account(AuthMethod.EMAIL, now, email=latest.email))
            await _link(uow, identity.telegram_id, account, now)
            owner = await uow.patients.owner(account.id)
            uow.audit.record(now, "login.email", actor=identity.telegram_id, account_id=account.id)
            await uow.commit()
            return LoginResult(account.id, AuthMethod.EMAIL, has_owner=owner is not None)


class EsiaLogin:
    STATE_TTL = timedelta(minutes=15)

    def __init__(self, db: Database, clock: Clock, provider: IdentityProvider) -> None:
        self.db = db
        self.clock = clock
        self.provider = provider

    async def start(self, identity: Identity) -> str:
        identity.require_consent()
        now = self.clock.now()
        # The nonce binds the id_token, the PKCE verifier the code, to this log-in (64 characters,
        # within RFC 7636's 43–128).
        state, nonce, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(16), secrets.token_urlsafe(48)
        # Asked first: a gateway that cannot be reached leaves no state behind.
        url = await self.provider.authorize_url(state=state, nonce=nonce, code_verifier=verifier)
        async with self.db.write() as uow:
            uow.login.add_state(EsiaLoginState(
                state=state, telegram_user_id=identity.telegram_id, nonce=nonce, code_verifier=verifier,
                created_at=now, expires_at=now + self.STATE_TTL,
            ))
            await uow.commit()
        return url

    async def complete(self, state: str, code: str) -> tuple[int, LoginResult]:
        """Returns the Telegram user the log-in was for, and the result.

        The state is spent in its own transaction before the provider is asked, so a replayed
        callback fails even if the provider is slow, and no write lock is held over the network.
        """
        now = self.clock.now()
        async with self.db.write() as uow:
            used = await uow.login.use_state(state, now)
            if used is None:
                raise LoginStateInvalid()
            telegram_id, nonce, verifier = used.telegram_user_id, used.nonce, used.code_verifier
            await uow.commit()
        person = await self.provider.person_for_code(code, nonce=nonce, code_verifier=verifier)
        async with self.db.write() as uow:
            account = await uow.login.account_by_esia(person.subject) or await uow.login.add_account_once(
                new_account(AuthMethod.ESIA, now, esia_subject=person.subject))
            await _link(uow, telegram_id, account, now)
            from_esia: tuple[EsiaField, ...] = ()
            if await uow.patients.owner(account.id) is None:
                await uow.patients.add(_owner_from_esia(account.id, person, now))
                from_esia = person.received
            uow.audit.record(now, "login.esia", actor=telegram_id, account_id=account.id)
            await uow.commit()
        return telegram_id, LoginResult(account.id, AuthMethod.ESIA, has_owner=True, from_esia=from_esia)


def _owner_from_esia(account_id: int, person: EsiaPerson, now: datetime) -> Patient:
    # ESIA vouches for the person: confirmed without a moderator.
    return Patient(
        account_id=account_id, is_owner=True, last_name=person.last_name, first_name=person.first_name,
        middle_name=person.middle_name, birth_date=person.birth_date, sex=person.sex,
        oms_policy=person.oms_policy, snils=person.snils, phone=None,
        status=ModerationStatus.CONFIRMED, submitted_at=now, decided_at=now,
    )
