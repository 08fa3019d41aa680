from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import AuthMethod
from storage.models import Account, EsiaLoginState, LoginCode, TelegramUser


class LoginRepo:
    """Telegram users, portal accounts and the one-time secrets that link them."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def who_is(self, telegram_id: int) -> tuple[str | None, int | None, AuthMethod | None, bool] | None:
        """The policy a Telegram user consented to, the account they are logged in to, how it logs in,
        and whether their chat answered 403; None for a user never seen. One indexed read: every
        update asks it."""
        row = (await self.session.execute(
            select(TelegramUser.consent_version, TelegramUser.account_id, Account.auth_method,
                   TelegramUser.unreachable_at.is_not(None))
            .outerjoin(Account, Account.id == TelegramUser.account_id)
            .where(TelegramUser.id == telegram_id)
        )).first()
        return None if row is None else (row[0], row[1], row[2], bool(row[3]))

    async def user(self, telegram_id: int) -> TelegramUser | None:
        return await self.session.get(TelegramUser, telegram_id)

    def add_user(self, user: TelegramUser) -> None:
        self.session.add(user)

    async def account(self, account_id: int) -> Account | None:
        return await self.session.get(Account, account_id)

    async def account_by_email(self, email: str) -> Account | None:
        return await self.session.scalar(select(Account).where(Account.email == email))

    async def account_by_esia(self, subject: str) -> Account | None:
        return await self.session.scalar(select(Account).where(Account.esia_subject == subject))

    async def add_account_once(self, account: Account) -> Account:
        """Insert, or take the row a parallel log-in with the same e-mail or ESIA subject just made."""
        try:
            async with self.session.begin_nested():
                self.session.add(account)
        except IntegrityError:
            existing = (await self.account_by_email(account.email) if account.email
                        else await self.account_by_esia(account.esia_subject or ""))
            if existing is None:
                raise
            return existing
        return account

    async def chats_of_account(self, account_id: int) -> list[int]:
        """Chats linked to an account that have not blocked the bot."""
        rows = await self.session.scalars(
            select(TelegramUser.chat_id).where(
                TelegramUser.account_id == account_id, TelegramUser.unreachable_at.is_(None)
            )
        )
        return list(rows)

    async def accounts_of_chat(self, chat_id: int) -> list[int]:
        rows = await self.session.scalars(
            select(TelegramUser.account_id)
            .where(TelegramUser.chat_id == chat_id, TelegramUser.account_id.is_not(None)))
        return [a for a in rows if a is not None]

    async def mark_unreachable(self, chat_id: int, now: datetime) -> None:
        await self.session.execute(
            update(TelegramUser).where(TelegramUser.chat_id == chat_id).values(unreachable_at=now)
        )

    async def mark_reachable(self, telegram_id: int) -> bool:
        """The user wrote to the bot again; True for the one update that cleared the flag."""
        result = await self.session.execute(
            update(TelegramUser)
            .where(TelegramUser.id == telegram_id, TelegramUser.unreachable_at.is_not(None))
            .values(unreachable_at=None)
        )
        return int(result.rowcount) == 1  # type: ignore[attr-defined]

    # --- e-mail codes ---

    def add_code(self, code: LoginCode) -> None:
        self.session.add(code)

    async def latest_code(self, telegram_id: int) -> LoginCode | None:
        return await self.session.scalar(
            select(LoginCode)
            .where(LoginCode.telegram_user_id == telegram_id)
            .order_by(LoginCode.id.desc())
            .limit(1)
        )

    async def codes_sent_since(self, telegram_id: int, since: datetime) -> int:
        return int(
            await self.session.scalar(
                select(func.count())
                .select_from(LoginCode)
                .where(LoginCode.telegram_user_id == telegram_id, LoginCode.created_at >= since)
            )
            or 0
        )

    async def codes_to_email_since(self, email: str, since: datetime) -> int:
        """Codes sent to one address by all Telegram users together."""
        return int(await self.session.scalar(
            select(func.count()).select_from(LoginCode)
            .where(LoginCode.email == email, LoginCode.created_at >= since)) or 0)

    async def wrong_tries_for_email_since(self, email: str, since: datetime) -> int:
        """Tries at the codes of one address, by all Telegram users together, that did not log in (a
        used code's last try was the right one)."""
        used = case((LoginCode.used_at.is_not(None), 1), else_=0)
        return int(await self.session.scalar(
            select(func.coalesce(func.sum(LoginCode.attempts - used), 0))
            .where(LoginCode.email == email, LoginCode.created_at >= since)) or 0)

    async def count_attempt(self, code_id: int, limit: int) -> int | None:
        """Count one try if the limit allows it; returns the tries used, or None when none are left."""
        result = await self.session.execute(
            update(LoginCode)
            .where(LoginCode.id == code_id, LoginCode.attempts < limit)
            .values(attempts=LoginCode.attempts + 1)
            .returning(LoginCode.attempts)
        )
        return result.scalar_one_or_none()

    async def lock_account(self, account_id: int) -> None:
        await self.session.execute(select(Account.id).where(Account.id == account_id).with_for_update())

    async def lock_user(self, telegram_id: int) -> None:
        await self.session.execute(
            select(TelegramUser.id).where(TelegramUser.id == telegram_id).with_for_update())

    async def use_code(self, code_id: int, now: datetime) -> bool:
        """Spend a code once, whatever the concurrency."""
        result = await self.session.execute(
            update(LoginCode)
            .where(LoginCode.id == code_id, LoginCode.used_at.is_(None))
            .values(used_at=now)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    # --- ESIA states ---

    def add_state(self, state: EsiaLoginState) -> None:
        self.session.add(state)

    async def use_state(self, state: str, now: datetime) -> EsiaLoginState | None:
        result = await self.session.execute(
            update(EsiaLoginState)
            .where(
                EsiaLoginState.state == state,
                EsiaLoginState.used_at.is_(None),
                EsiaLoginState.expires_at > now,
            )
            .values(used_at=now)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return await self.session.get(EsiaLoginState, state)


def new_account(method: AuthMethod, now: datetime, *, email: str | None = None,
                esia_subject: str | None = None) -> Account:
    return Account(auth_method=method, email=email, esia_subject=esia_subject, created_at=now,
                   last_login_at=now)
