"""Who is talking to the bot: resolved once per update from the database and the staff lists."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from core.enums import AuthMethod, Role
from core.errors import ConsentRequired, NotAllowed, NotLoggedIn


@dataclass(frozen=True)
class Staff:
    moderators: frozenset[int] = frozenset()
    operators: frozenset[int] = frozenset()

    def roles_of(self, telegram_id: int) -> frozenset[Role]:
        roles = {Role.PATIENT}
        if telegram_id in self.moderators:
            roles.add(Role.MODERATOR)
        if telegram_id in self.operators:
            roles.add(Role.OPERATOR)
        return frozenset(roles)


@dataclass(frozen=True)
class Identity:
    telegram_id: int
    chat_id: int
    consented: bool = False
    account_id: int | None = None
    auth_method: AuthMethod | None = None
    roles: frozenset[Role] = field(default_factory=lambda: frozenset({Role.PATIENT}))

    def require_consent(self) -> None:
        if not self.consented:
            raise ConsentRequired()

    def require_account(self) -> int:
        if self.account_id is None:
            raise NotLoggedIn()
        return self.account_id

    def require_role(self, role: Role) -> None:
        if role not in self.roles:
            raise NotAllowed()

    @property
    def is_staff(self) -> bool:
        return Role.MODERATOR in self.roles or Role.OPERATOR in self.roles


class IdentityCache:
    """Who a Telegram user is, kept for a few seconds: every update needs it, it rarely changes.

    This process forgets an entry the moment it changes it (log-in, log-out, consent); another
    bot instance sees the change within ``ttl``. Services still authorize every action against
    the database (the person, the appointment, the offer), so a stale entry can at most show a
    screen, never act for an account it no longer belongs to for longer than ``ttl``.
    """

    def __init__(self, ttl_seconds: float = 10.0, max_entries: int = 100_000) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._entries: dict[int, tuple[float, Identity]] = {}

    def get(self, telegram_id: int) -> Identity | None:
        entry = self._entries.get(telegram_id)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, identity: Identity) -> None:
        if len(self._entries) >= self.max_entries:
            self._entries.clear()  # crude but bounded; refilled from the database as users write
        self._entries[identity.telegram_id] = (time.monotonic() + self.ttl, identity)

    def forget(self, telegram_id: int) -> None:
        self._entries.pop(telegram_id, None)
