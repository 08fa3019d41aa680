"""What core needs from the outside world, as protocols; ``bot/infra`` holds the real ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from core.enums import Sex


class EmailSender(Protocol):
    async def send_login_code(self, to: str, code: str, ttl_minutes: int) -> None: ...


@dataclass(frozen=True)
class EsiaPerson:
    """What the identity provider vouches for."""

    subject: str
    last_name: str
    first_name: str
    middle_name: str | None
    birth_date: date
    sex: Sex
    snils: str | None
    oms_policy: str | None


class IdentityProvider(Protocol):
    def authorize_url(self, state: str, nonce: str) -> str: ...

    async def person_for_code(self, code: str) -> EsiaPerson:
        """Exchange the authorization code and read the person; raises ``EsiaUnavailable``."""
        ...
