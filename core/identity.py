"""Who is talking to the bot: resolved once per update from the database and the staff lists."""

from __future__ import annotations

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
