"""«Войти через Госуслуги» (R1, R3) through a real OpenID Connect exchange: the bot's client (Authlib)
against the fake gateway of ``tests/e2e/oidc.py``, on a real database.

The gateway's ``id_token`` is believed only when its signature (the gateway's JWKS), issuer,
audience, expiry and the log-in's own nonce check out; the code is bound to the log-in by PKCE.
Anything else logs nobody in, and the log says which check failed, with nothing about the person.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from pydantic import SecretStr, ValidationError
from sqlalchemy import func, select

from bot.config import Settings
from bot.container import identity_provider_from
from bot.texts.login import esia_done
from core.access import AccessService
from core.clock import FixedClock
from core.enums import AuthMethod, ModerationStatus, Sex
from core.errors import EsiaUnavailable
from core.login import EsiaLogin, LoginResult
from core.ports import EsiaField
from storage.db import Database
from storage.models import Account, EsiaLoginState, Patient
from tests.e2e.oidc import FakeOidcProvider, rsa_key, s256, sign_in
from tests.factories import CONSENT, STAFF

OLEG = {"sub": "esia-42", "family_name": "Петров", "given_name": "Олег", "middle_name": "Ильич",
        "birthdate": "1979-04-12", "gender": "male", "snils": "112-233-445 95", "oms_policy": "5012345678901234"}
PERSONAL = ("Петров", "Олег", "esia-42", "1979-04-12", "11223344595", "112-233-445 95", "5012345678901234")


def settings_for(gateway: FakeOidcProvider, *, explicit: bool = False, **extra: Any) -> Settings:
    env = gateway.explicit_env() if explicit else gateway.env()
    fields: dict[str, Any] = {key.lower(): value for key, value in env.items()}
    fields["esia_client_secret"] = SecretStr(fields["esia_client_secret"])
    return Settings(_env_file=None, bot_token=SecretStr("1:test"),
                    public_base_url="https://bot.example", **fields, **extra)


@dataclass
class Portal:
    db: Database
    clock: FixedClock
    gateway: FakeOidcProvider
    access: AccessService
    esia: EsiaLogin

    async def start(self, telegram_id: int = 7) -> str:
        await self.access.give_consent(telegram_id, telegram_id)
        return await self.esia.start(await self.access.identify(telegram_id, telegram_id))

    async def log_in(self, telegram_id: int = 7) -> LoginResult:
        state, code = await sign_in(await self.start(telegram_id))
        _, result = await self.esia.complete(state, code)
        return result

    async def nobody_logged_in(self) -> bool:
        async with self.db.read() as uow:
            accounts = await uow.session.scalar(select(func.count()).select_from(Account))
            people = await uow.session.scalar(select(func.count()).select_from(Patient))
        me = await self.access.identify(7, 7)
        return accounts == 0 and people == 0 and me.account_id is None


def portal_for(db: Database, clock: FixedClock, gateway: FakeOidcProvider, **settings: Any) -> Portal:
    provider = identity_provider_from(settings_for(gateway, **settings), clock)
    assert provider is not None
    return Portal(db, clock, gateway, AccessService(db, clock, STAFF, CONSENT), EsiaLogin(db, clock, provider))


@pytest.fixture
async def gateway(clock: FixedClock) -> AsyncIterator[FakeOidcProvider]:
    async with FakeOidcProvider(dict(OLEG), now=clock.now) as fake:
        yield fake


@pytest.fixture
def portal(db: Database, clock: FixedClock, gateway: FakeOidcProvider) -> Portal:
    return portal_for(db, clock, gateway)


async def test_login_through_discovery_with_pkce_and_a_verified_id_token(portal: Portal) -> None:
    """The endpoints come from the gateway's discovery document; the authorization request carries an
    S256 challenge of a verifier kept with the log-in's state, and the token request sends that verifier."""
    url = await portal.start()
    query = parse_qs(urlparse(url).query)
    assert query["code_challenge_method"] == ["S256"]
    async with portal.db.read() as uow:
        stored = await uow.session.get(EsiaLoginState, query["state"][0])
    assert stored is not None and stored.code_verifier is not None
    assert s256(stored.code_verifier) == query["code_challenge"][0]
    assert stored.nonce == query["nonce"][0]

    state, code = await sign_in(url)
    _, result = await portal.esia.complete(state, code)

    assert portal.gateway.discovery_requests == 1
    assert portal.gateway.verifiers == [stored.code_verifier]
    assert result.method == AuthMethod.ESIA
    async with portal.db.read() as uow:
        (owner,) = await uow.patients.of_account(result.account_id)
    assert owner.status == ModerationStatus.CONFIRMED
    assert (owner.last_name, owner.first_name, owner.middle_name, owner.birth_date, owner.sex) == (
        "Петров", "Олег", "Ильич", date(1979, 4, 12), Sex.MALE)
    assert (owner.snils, owner.oms_policy) == ("11223344595", "5012345678901234")
    assert result.from_esia == (EsiaField.FULL_NAME, EsiaField.BIRTH_DATE, EsiaField.SEX, EsiaField.SNILS,
                                EsiaField.OMS_POLICY)


@pytest.mark.parametrize(("check", "spoil"), [
    ("nonce", {"nonce": "a-nonce-of-another-log-in"}),
    ("nonce", {"nonce": None}),
    ("aud", {"aud": "another-client"}),
    ("iss", {"iss": "https://gateway.evil.example"}),
    ("exp", "expired"),
    ("signature", "other key"),
])
async def test_an_id_token_failing_a_check_logs_nobody_in(portal: Portal, caplog: pytest.LogCaptureFixture,
                                                          check: str, spoil: dict[str, Any] | str) -> None:
    if spoil == "expired":
        portal.gateway.token_lifetime = timedelta(minutes=-5)
    elif spoil == "other key":
        portal.gateway.sign_with = rsa_key()  # same key id, another key: the JWKS cannot verify it
    else:
        assert isinstance(spoil, dict)
        portal.gateway.id_token_overrides = spoil
    caplog.set_level(logging.INFO)

    with pytest.raises(EsiaUnavailable):
        await portal.log_in()

    assert await portal.nobody_logged_in()
    refusals = [r.getMessage() for r in caplog.records if "id_token" in r.getMessage()]
    assert refusals and all(f"check failed: {check}" in line for line in refusals), refusals
    for secret in PERSONAL:
        assert secret not in caplog.text


async def test_a_code_from_another_log_in_is_refused_by_pkce(portal: Portal) -> None:
    """A code stolen from another log-in and sent back with this log-in's state: the verifier kept
    with this state does not match the other log-in's challenge, so the gateway gives no token."""
    mine = await portal.start(7)
    _, stolen_code = await sign_in(await portal.start(8))
    my_state, _ = await sign_in(mine)
    with pytest.raises(EsiaUnavailable):
        await portal.esia.complete(my_state, stolen_code)
    theirs, ours = portal.gateway.challenges
    (sent,) = portal.gateway.verifiers
    assert s256(sent) == ours and s256(sent) != theirs
    assert await portal.nobody_logged_in()


async def test_explicit_endpoints_work_without_discovery(db: Database, clock: FixedClock,
                                                         gateway: FakeOidcProvider) -> None:
    portal = portal_for(db, clock, gateway, explicit=True)
    result = await portal.log_in()
    assert result.method == AuthMethod.ESIA
    assert gateway.discovery_requests == 0


async def test_a_gateway_without_userinfo_gives_the_person_in_the_id_token(db: Database,
                                                                          clock: FixedClock) -> None:
    async with FakeOidcProvider(dict(OLEG), now=clock.now, userinfo=False) as gateway:
        result = await portal_for(db, clock, gateway).log_in()
    async with db.read() as uow:
        owner = await uow.patients.owner(result.account_id)
    assert owner is not None and owner.last_name == "Петров" and owner.oms_policy == "5012345678901234"


async def test_a_rotated_gateway_key_is_fetched_again(portal: Portal) -> None:
    await portal.log_in(7)
    portal.gateway.key = rsa_key("gateway-key-2")
    result = await portal.log_in(8)
    assert result.method == AuthMethod.ESIA


async def test_an_unreachable_gateway_is_told_when_the_link_is_asked_for(db: Database, clock: FixedClock) -> None:
    async with FakeOidcProvider(dict(OLEG), now=clock.now) as gateway:
        portal = portal_for(db, clock, gateway)
    with pytest.raises(EsiaUnavailable):
        await portal.start()


# --- which claims are read --------------------------------------------------------------------


async def test_a_gateway_sending_oms_number_fills_the_policy(db: Database, clock: FixedClock) -> None:
    claims = {key: value for key, value in OLEG.items() if key != "oms_policy"} | {"oms_number": "5012345678909999"}
    async with FakeOidcProvider(claims, now=clock.now) as gateway:
        result = await portal_for(db, clock, gateway).log_in()
    async with db.read() as uow:
        owner = await uow.patients.owner(result.account_id)
    assert owner is not None and owner.oms_policy == "5012345678909999"
    assert EsiaField.OMS_POLICY in result.from_esia


async def test_claim_names_are_a_setting(db: Database, clock: FixedClock) -> None:
    """A gateway passing ESIA's own names through, and its policy under a name only this region uses."""
    claims = {"sub": "esia-7", "lastName": "Сидорова", "firstName": "Вера", "birthDate": "03.02.1990",
              "gender": "F", "policy_enp": "5012345678900000"}
    async with FakeOidcProvider(claims, now=clock.now) as gateway:
        result = await portal_for(db, clock, gateway, esia_claims_last_name="lastName",
                                  esia_claims_first_name="firstName", esia_claims_middle_name="middleName",
                                  esia_claims_birth_date="birthDate", esia_claims_oms="policy_enp").log_in()
    async with db.read() as uow:
        owner = await uow.patients.owner(result.account_id)
    assert owner is not None
    assert (owner.last_name, owner.first_name, owner.middle_name, owner.birth_date, owner.sex, owner.oms_policy,
            owner.snils) == ("Сидорова", "Вера", None, date(1990, 2, 3), Sex.FEMALE, "5012345678900000", None)
    assert result.from_esia == (EsiaField.FULL_NAME, EsiaField.BIRTH_DATE, EsiaField.SEX, EsiaField.OMS_POLICY)


def test_the_owner_is_told_which_fields_came_from_esia() -> None:
    everything = (EsiaField.FULL_NAME, EsiaField.BIRTH_DATE, EsiaField.SEX, EsiaField.SNILS, EsiaField.OMS_POLICY)
    assert "Из Госуслуг: ФИО, дата рождения, пол, СНИЛС, полис ОМС." in esia_done(everything)
    partial = esia_done(everything[:3])
    assert "Из Госуслуг: ФИО, дата рождения, пол." in partial
    assert "Госуслуги не передали: СНИЛС, полис ОМС." in partial
    assert "Из Госуслуг" not in esia_done(())  # a later log-in: the owner was made before


@pytest.mark.parametrize(("given", "missing"), [
    ({"esia_issuer": "https://gateway.example"}, "ESIA_CLIENT_ID"),
    ({"esia_client_id": "medbot", "esia_token_url": "https://gateway.example/token"}, "ESIA_ISSUER"),
])
def test_esia_without_what_it_needs_is_a_settings_error(given: dict[str, str], missing: str) -> None:
    """Without an issuer the id_token's «iss» cannot be checked; without a client id nothing works."""
    with pytest.raises(ValidationError, match=missing):
        Settings(_env_file=None, bot_token=SecretStr("1:test"), esia_enabled=True, **given)
