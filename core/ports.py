"""What core needs from the outside world, as protocols; ``bot/infra`` holds the real ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Protocol

from core.enums import Sex


class EmailSender(Protocol):
    async def send_login_code(self, to: str, code: str, ttl_minutes: int) -> None: ...


class EsiaField(StrEnum):
    """A field of the owner's card that ESIA can fill."""

    FULL_NAME = "full_name"
    BIRTH_DATE = "birth_date"
    SEX = "sex"
    SNILS = "snils"
    OMS_POLICY = "oms_policy"


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

    @property
    def received(self) -> tuple[EsiaField, ...]:
        """The fields ESIA gave: name, birth date and sex always, SNILS and the policy when it had them."""
        given = [EsiaField.FULL_NAME, EsiaField.BIRTH_DATE, EsiaField.SEX]
        if self.snils:
            given.append(EsiaField.SNILS)
        if self.oms_policy:
            given.append(EsiaField.OMS_POLICY)
        return tuple(given)


class IdentityProvider(Protocol):
    """An OpenID Connect log-in: ``state``, ``nonce`` and the PKCE ``code_verifier`` are the log-in's
    own one-time secrets, kept by core between the two calls."""

    async def authorize_url(self, *, state: str, nonce: str, code_verifier: str) -> str:
        """Where the patient signs in; raises ``EsiaUnavailable`` if the gateway cannot be reached."""
        ...

    async def person_for_code(self, code: str, *, nonce: str, code_verifier: str | None) -> EsiaPerson:
        """Exchange the code, check the ``id_token`` (with ``nonce``) and read the person;
        raises ``EsiaUnavailable``."""
        ...
