"""«Услуга доступна только авторизованным пользователям» (R1): logging in by e-mail or through ESIA,
consent, logging out, and what the audit log keeps of it (R3: the account remembers how).

A recording mail server and a fake ESIA stand in for the outside world; everything else is the
real services on a real database.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import func, select

from core.access import AccessService
from core.clock import FixedClock
from core.enums import AuthMethod, ModerationStatus, Sex
from core.errors import (
    CodeExpired,
    CodeWrong,
    ConsentRequired,
    LoginStateInvalid,
    ResendTooSoon,
    TooManyAttempts,
)
from core.identity import Identity
from core.login import CodePolicy, EmailLogin, EsiaLogin, LoginResult
from core.ports import EsiaPerson
from core.privacy import PrivacyService
from storage.db import Database
from storage.models import Account, AuditEntry, EsiaLoginState, LoginCode, Patient, TelegramUser
from tests import factories
from tests.factories import CONSENT, STAFF, RecordingEmail

ANNA_EMAIL = "anna.petrova@mail.ru"
ESIA_URL = "https://esia.test/aas/oauth2/ac"
PETROV = EsiaPerson(
    subject="1000299512", last_name="Петров", first_name="Пётр", middle_name="Ильич", birth_date=date(1980, 5, 5),
    sex=Sex.MALE, snils="11223344595", oms_policy="7700000012345678",
)


class FakeEsia:
    """ESIA as the bot sees it: an authorization URL out, a vouched-for person back for a code."""

    def __init__(self, person: EsiaPerson = PETROV) -> None:
        self.person = person
        self.codes: list[str] = []

    async def authorize_url(self, *, state: str, nonce: str, code_verifier: str) -> str:
        return f"{ESIA_URL}?client_id=medbot&state={state}&nonce={nonce}"

    async def person_for_code(self, code: str, *, nonce: str, code_verifier: str | None) -> EsiaPerson:
        self.codes.append(code)
        return self.person


@dataclass
class Portal:
    db: Database
    clock: FixedClock
    access: AccessService
    email: EmailLogin
    esia: EsiaLogin
    mail: RecordingEmail = field(default_factory=RecordingEmail)
    provider: FakeEsia = field(default_factory=FakeEsia)

    async def consented(self, telegram_id: int) -> Identity:
        """The user pressed «Согласен» on the consent text."""
        await self.access.give_consent(telegram_id, telegram_id)
        return await self.access.identify(telegram_id, telegram_id)

    async def who(self, telegram_id: int) -> Identity:
        return await self.access.identify(telegram_id, telegram_id)

    async def log_in_by_email(self, telegram_id: int, address: str = ANNA_EMAIL) -> LoginResult:
        identity = await self.consented(telegram_id)
        await self.email.request_code(identity, address)
        return await self.email.verify(identity, self.mail.last_code)

    async def esia_state(self, identity: Identity) -> str:
        url = await self.esia.start(identity)
        return parse_qs(urlparse(url).query)["state"][0]


@pytest.fixture
def portal(db: Database, clock: FixedClock) -> Portal:
    mail, provider = RecordingEmail(), FakeEsia()
    return Portal(db, clock, AccessService(db, clock, STAFF, CONSENT), EmailLogin(db, clock, mail, "test-secret"),
                  EsiaLogin(db, clock, provider), mail, provider)


def another_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def count(db: Database, model: type) -> int:
    async with db.read() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


# --- e-mail ------------------------------------------------------------------------------------


async def test_a_code_by_email_logs_in_and_links_the_account(portal: Portal, clock: FixedClock) -> None:
    """R1, R3: a six-digit code goes to the address typed; typing it back links the Telegram user to
    an e-mail account, and the bot knows from then on that this account logged in by e-mail.
    The account is the address: a second phone logging in with it finds the same card file (R4)."""
    identity = await portal.consented(7)
    sent = await portal.email.request_code(identity, "  Anna.Petrova@Mail.RU ")
    assert sent.email == ANNA_EMAIL
    assert sent.expires_at == clock.now() + timedelta(minutes=10)
    ((to, code),) = portal.mail.sent
    assert to == ANNA_EMAIL
    assert len(code) == 6 and code.isdigit()

    result = await portal.email.verify(identity, f" {code[:3]} {code[3:]} ")

    assert (result.method, result.has_owner) == (AuthMethod.EMAIL, False)
    me = await portal.who(7)
    assert (me.account_id, me.auth_method, me.consented) == (result.account_id, AuthMethod.EMAIL, True)
    async with portal.db.read() as uow:
        account = await uow.login.account(result.account_id)
        stored = await uow.session.scalar(select(LoginCode.code_hash))
    assert account is not None and (account.auth_method, account.email) == (AuthMethod.EMAIL, ANNA_EMAIL)
    assert stored is not None and code not in stored  # the code itself is never stored

    second_phone = await portal.log_in_by_email(8, "ANNA.Petrova@mail.ru")
    assert second_phone.account_id == result.account_id
    assert (await portal.who(8)).account_id == (await portal.who(7)).account_id == result.account_id
    assert await count(portal.db, Account) == 1


async def test_after_five_wrong_codes_even_the_right_one_is_refused(portal: Portal) -> None:
    """R1: each wrong code uses up a try; after five the code is dead, whatever is typed next."""
    identity = await portal.consented(7)
    await portal.email.request_code(identity, ANNA_EMAIL)
    code = portal.mail.last_code
    left = []
    for _ in range(5):
        with pytest.raises((CodeWrong, TooManyAttempts)) as info:
            await portal.email.verify(identity, another_code(code))
        if isinstance(info.value, CodeWrong):
            left.append(info.value.attempts_left)
    assert left == sorted(left, reverse=True) and all(n > 0 for n in left)
    with pytest.raises(TooManyAttempts):
        await portal.email.verify(identity, code)
    assert (await portal.who(7)).account_id is None
    assert await count(portal.db, Account) == 0


async def test_wrong_codes_count_down_honestly(portal: Portal) -> None:
    """R1: five tries: «осталось 4, 3, 2, 1», then the fifth wrong code locks it, and locked means locked
    (the right code typed after «слишком много попыток» is refused too)."""
    identity = await portal.consented(7)
    await portal.email.request_code(identity, ANNA_EMAIL)
    code = portal.mail.last_code
    left = []
    for _ in range(10):
        try:
            await portal.email.verify(identity, another_code(code))
        except CodeWrong as wrong:
            left.append(wrong.attempts_left)
        except TooManyAttempts:
            break
    else:
        pytest.fail("ten wrong codes and the code is still not locked")
    assert left == [4, 3, 2, 1]
    with pytest.raises(TooManyAttempts):
        await portal.email.verify(identity, code)


async def test_a_code_expires_after_ten_minutes(portal: Portal, clock: FixedClock) -> None:
    """R1: a code is good for ten minutes; then a new one must be asked for."""
    anna, olga = await portal.consented(7), await portal.consented(8)
    await portal.email.request_code(anna, ANNA_EMAIL)
    anna_code = portal.mail.last_code
    await portal.email.request_code(olga, "olga@mail.ru")
    olga_code = portal.mail.last_code

    clock.advance(timedelta(minutes=9, seconds=59))
    await portal.email.verify(olga, olga_code)
    clock.advance(timedelta(seconds=1))
    with pytest.raises(CodeExpired):
        await portal.email.verify(anna, anna_code)
    assert (await portal.who(7)).account_id is None
    assert (await portal.who(8)).account_id is not None


async def test_codes_go_out_a_minute_apart_and_five_an_hour_at_most(portal: Portal, clock: FixedClock) -> None:
    """R1: «Отправить код ещё раз» waits a minute and says how long, and the newest code is the one that
    works; a sixth code within an hour is refused and nothing is sent; an hour after the first, it works again."""
    start = clock.now()
    identity = await portal.consented(7)
    await portal.email.request_code(identity, ANNA_EMAIL)
    first = portal.mail.last_code
    clock.advance(timedelta(seconds=30))
    with pytest.raises(ResendTooSoon) as info:
        await portal.email.resend(identity)
    assert 30 <= info.value.seconds <= 31
    assert len(portal.mail.sent) == 1

    clock.advance(timedelta(seconds=30))
    await portal.email.resend(identity)
    assert [to for to, _ in portal.mail.sent] == [ANNA_EMAIL, ANNA_EMAIL]
    if portal.mail.last_code != first:  # one chance in a million that both codes are the same
        with pytest.raises(CodeWrong):
            await portal.email.verify(identity, first)

    for _ in range(3):  # codes three, four and five, still within the first hour
        clock.advance(timedelta(minutes=1))
        await portal.email.request_code(identity, ANNA_EMAIL)
    clock.advance(timedelta(minutes=1))
    with pytest.raises(ResendTooSoon):
        await portal.email.request_code(identity, ANNA_EMAIL)
    assert len(portal.mail.sent) == 5
    assert await count(portal.db, LoginCode) == 5

    clock.set(start + timedelta(hours=1, seconds=1))
    await portal.email.request_code(identity, ANNA_EMAIL)
    assert len(portal.mail.sent) == 6
    assert (await portal.email.verify(identity, portal.mail.last_code)).method == AuthMethod.EMAIL


async def test_a_code_works_once_even_typed_twice_at_the_same_moment(portal: Portal) -> None:
    """R1: the same code sent twice at once (a double tap, two devices) logs in once."""
    identity = await portal.consented(7)
    await portal.email.request_code(identity, ANNA_EMAIL)
    code = portal.mail.last_code
    results = await asyncio.gather(portal.email.verify(identity, code), portal.email.verify(identity, code),
                                   return_exceptions=True)
    assert sum(isinstance(r, LoginResult) for r in results) == 1
    assert sum(isinstance(r, CodeExpired) for r in results) == 1
    with pytest.raises(CodeExpired):
        await portal.email.verify(identity, code)
    assert await count(portal.db, Account) == 1


async def test_the_same_address_from_several_phones_at_once_is_one_account(
        request: pytest.FixtureRequest, portal: Portal) -> None:
    """R1: four phones typing their codes for one address at the same moment all end up in one account."""
    phones = [await portal.consented(telegram_id) for telegram_id in (7, 8, 9, 10)]
    codes = []
    for phone in phones:
        await portal.email.request_code(phone, ANNA_EMAIL)
        codes.append(portal.mail.last_code)
    await factories.ready_connections(portal.db, len(phones))
    results = await asyncio.gather(*(portal.email.verify(p, c) for p, c in zip(phones, codes, strict=True)),
                                   return_exceptions=True)
    assert all(isinstance(r, LoginResult) for r in results), results
    assert await count(portal.db, Account) == 1
    assert len({(await portal.who(p.telegram_id)).account_id for p in phones} - {None}) == 1


async def test_guessing_in_parallel_gets_no_more_tries_than_one_by_one(request: pytest.FixtureRequest,
                                                                       portal: Portal) -> None:
    """R1: twenty wrong codes sent at once are not twenty tries: at most five are ever checked."""
    identity = await portal.consented(7)
    await portal.email.request_code(identity, ANNA_EMAIL)
    code = portal.mail.last_code
    guesses = [f"{(int(code) + k) % 1_000_000:06d}" for k in range(1, 21)]
    await factories.ready_connections(portal.db, 5)
    results = await asyncio.gather(*(portal.email.verify(identity, g) for g in guesses), return_exceptions=True)
    assert all(isinstance(r, CodeWrong | TooManyAttempts) for r in results), results
    async with portal.db.read() as uow:
        attempts = await uow.session.scalar(select(LoginCode.attempts))
    assert attempts is not None and attempts <= 5
    assert sum(isinstance(r, CodeWrong) for r in results) <= 4


async def test_asking_for_codes_in_parallel_sends_one(request: pytest.FixtureRequest, portal: Portal) -> None:
    """R1: ten taps on «Получить код» at once send one e-mail, not ten."""
    identity = await portal.consented(7)
    await factories.ready_connections(portal.db, 5)
    results = await asyncio.gather(*(portal.email.request_code(identity, ANNA_EMAIL) for _ in range(10)),
                                   return_exceptions=True)
    assert all(isinstance(r, ResendTooSoon) for r in results if isinstance(r, BaseException)), results
    assert len(portal.mail.sent) == 1
    assert await count(portal.db, LoginCode) == 1


# --- ESIA --------------------------------------------------------------------------------------


async def test_esia_login_makes_a_confirmed_owner_from_what_esia_vouches_for(portal: Portal) -> None:
    """R1, R2, R3: through Госуслуги the owner needs no moderator: ESIA has checked the person,
    and the owner carries the SNILS and the policy ESIA gave. Logging in again, from another phone
    too, finds the same account and adds nobody (R4)."""
    identity = await portal.consented(7)
    url = await portal.esia.start(identity)
    assert url.startswith(ESIA_URL + "?")
    query = parse_qs(urlparse(url).query)
    state = query["state"][0]
    assert len(state) >= 20 and query["nonce"][0]

    telegram_id, result = await portal.esia.complete(state, "auth-code-1")

    assert telegram_id == 7
    assert (result.method, result.has_owner) == (AuthMethod.ESIA, True)
    assert portal.provider.codes == ["auth-code-1"]
    me = await portal.who(7)
    assert (me.account_id, me.auth_method) == (result.account_id, AuthMethod.ESIA)
    async with portal.db.read() as uow:
        (owner,) = await uow.patients.of_account(result.account_id)
    assert owner.is_owner and owner.status == ModerationStatus.CONFIRMED
    assert (owner.last_name, owner.first_name, owner.middle_name) == ("Петров", "Пётр", "Ильич")
    assert (owner.snils, owner.oms_policy, owner.birth_date) == ("11223344595", "7700000012345678", date(1980, 5, 5))

    _, again = await portal.esia.complete(await portal.esia_state(await portal.consented(8)), "auth-code-2")
    assert again.account_id == result.account_id
    assert (await portal.who(8)).auth_method == AuthMethod.ESIA
    assert await count(portal.db, Account) == 1
    assert await count(portal.db, Patient) == 1


async def test_esia_state_is_good_once_and_only_for_fifteen_minutes(portal: Portal, clock: FixedClock) -> None:
    """R1: a replayed, forged or stale callback logs nobody in, and ESIA is not even asked."""
    identity = await portal.consented(7)
    used = await portal.esia_state(identity)
    await portal.esia.complete(used, "code-1")
    with pytest.raises(LoginStateInvalid):
        await portal.esia.complete(used, "code-1")
    with pytest.raises(LoginStateInvalid):
        await portal.esia.complete("forged-" + used[7:], "code-2")

    late = await portal.esia_state(identity)
    in_time = await portal.esia_state(identity)
    clock.advance(timedelta(minutes=14))
    await portal.esia.complete(in_time, "code-3")
    clock.advance(timedelta(minutes=2))
    with pytest.raises(LoginStateInvalid):
        await portal.esia.complete(late, "code-4")
    assert portal.provider.codes == ["code-1", "code-3"]


async def test_callbacks_for_one_esia_person_at_once_make_one_account(request: pytest.FixtureRequest,
                                                                      portal: Portal) -> None:
    """R1, R4: the same person finishing ESIA on four phones at the same moment gets one account, one owner."""
    states = [await portal.esia_state(await portal.consented(telegram_id)) for telegram_id in (7, 8, 9, 10)]
    await factories.ready_connections(portal.db, len(states))
    results = await asyncio.gather(*(portal.esia.complete(state, f"code-{n}") for n, state in enumerate(states)),
                                   return_exceptions=True)
    assert all(isinstance(r, tuple) for r in results), results
    assert await count(portal.db, Account) == 1
    assert await count(portal.db, Patient) == 1


# --- consent and logging out -------------------------------------------------------------------


async def test_logout_unlinks_the_account_but_keeps_the_consent(portal: Portal, clock: FixedClock) -> None:
    """R1: «Выйти» ends the session; the next log-in with the same address finds the same account."""
    first = await portal.log_in_by_email(7)
    assert await portal.access.logout(await portal.who(7)) is True
    me = await portal.who(7)
    assert (me.account_id, me.consented) == (None, True)
    assert await portal.access.logout(me) is False

    clock.advance(timedelta(minutes=1))
    again = await portal.log_in_by_email(7)
    assert again.account_id == first.account_id
    assert (await portal.who(7)).account_id == first.account_id


async def test_consent_comes_first_a_new_text_pauses_and_withdrawing_ends(portal: Portal, db: Database,
                                                                          clock: FixedClock) -> None:
    """R1 (152-FZ): before «Согласен» no address is taken, no code sent, no log-in started, nothing stored.
    After the consent text changes, the session is paused until the new text is accepted; withdrawing
    consent logs out, and the bot processes nothing more — not even a request for a code."""
    stranger = await portal.who(7)
    assert not stranger.consented
    with pytest.raises(ConsentRequired):
        await portal.email.request_code(stranger, ANNA_EMAIL)
    with pytest.raises(ConsentRequired):
        await portal.esia.start(stranger)
    assert portal.mail.sent == []
    for model in (LoginCode, EsiaLoginState, Account, TelegramUser):
        assert await count(portal.db, model) == 0

    result = await portal.log_in_by_email(7)
    newer = AccessService(db, clock, STAFF, "test-2")
    me = await newer.identify(7, 7)
    assert (me.consented, me.account_id) == (False, None)
    await newer.give_consent(7, 7)
    me = await newer.identify(7, 7)
    assert (me.consented, me.account_id) == (True, result.account_id)
    async with db.read() as uow:
        account = await uow.login.account(result.account_id)
    assert account is not None and account.consent_version == "test-2"

    await PrivacyService(portal.db, portal.clock).withdraw_consent(me)
    for version in (newer, portal.access):
        after = await version.identify(7, 7)
        assert (after.consented, after.account_id) == (False, None)
    with pytest.raises(ConsentRequired):
        await portal.email.request_code(await newer.identify(7, 7), ANNA_EMAIL)
    assert len(portal.mail.sent) == 1


async def test_the_audit_log_records_who_did_what_but_no_personal_data(portal: Portal, clock: FixedClock) -> None:
    """R1: every log-in step is in the audit log by ids and action names only: no e-mail address,
    name, SNILS, policy number or code appears in it."""
    identity = await portal.consented(7)
    await portal.email.request_code(identity, ANNA_EMAIL)
    code = portal.mail.last_code
    with pytest.raises(CodeWrong):
        await portal.email.verify(identity, another_code(code))
    email_result = await portal.email.verify(identity, code)
    await portal.access.logout(await portal.who(7))
    _, esia_result = await portal.esia.complete(await portal.esia_state(await portal.who(7)), "code-1")
    await PrivacyService(portal.db, portal.clock).withdraw_consent(await portal.who(7))

    async with portal.db.read() as uow:
        rows = list(await uow.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    actions = [r.action for r in rows]
    for action in ("consent.given", "login.code_requested", "login.code_wrong", "login.email", "logout",
                   "login.esia", "consent.withdrawn"):
        assert action in actions
    assert all(r.actor_telegram_id == 7 for r in rows)
    by_action = {r.action: r for r in rows}
    assert by_action["login.email"].account_id == email_result.account_id
    assert by_action["login.esia"].account_id == esia_result.account_id
    assert all(r.at == clock.now() for r in rows)

    secrets = [ANNA_EMAIL, "anna.petrova", code, PETROV.last_name, PETROV.first_name, PETROV.middle_name,
               PETROV.snils, PETROV.oms_policy, PETROV.subject, "112-233-445"]
    for row in rows:
        text = " ".join(str(v) for v in (row.action, row.subject, row.details))
        for secret in secrets:
            assert secret is not None and secret not in text, (row.action, secret)


# --- across chats (issue 17) --------------------------------------------------------------------


async def test_codes_for_one_address_are_capped_across_chats(portal: Portal, clock: FixedClock) -> None:
    """Many Telegram users asking codes for one address: each chat's own limit is not the only one, so a
    mailbox cannot be flooded from several chats; another address is not affected; an hour later it works."""
    email = EmailLogin(portal.db, clock, portal.mail, "test-secret", CodePolicy(max_per_email_per_hour=3))
    for telegram_id in (7, 8, 9):
        await email.request_code(await portal.consented(telegram_id), ANNA_EMAIL)
    mallory = await portal.consented(10)
    with pytest.raises(ResendTooSoon):
        await email.request_code(mallory, ANNA_EMAIL.upper())
    assert len(portal.mail.sent) == 3
    await email.request_code(mallory, "olga@mail.ru")
    clock.advance(timedelta(hours=1, seconds=1))
    await email.request_code(await portal.consented(11), ANNA_EMAIL)
    assert len(portal.mail.sent) == 5


async def test_wrong_codes_for_one_address_are_capped_across_chats(portal: Portal, clock: FixedClock) -> None:
    """Guessing one address's codes from several chats gets no more tries in all than the address allows:
    once they are used up, even a right code from yet another chat waits."""
    email = EmailLogin(portal.db, clock, portal.mail, "test-secret", CodePolicy(max_wrong_per_email_per_hour=4))
    guessers = [await portal.consented(telegram_id) for telegram_id in (7, 8)]
    for guesser in guessers:
        await email.request_code(guesser, ANNA_EMAIL)
        code = portal.mail.last_code
        for _ in range(2):
            with pytest.raises(CodeWrong):
                await email.verify(guesser, another_code(code))
    anna = await portal.consented(9)
    await email.request_code(anna, ANNA_EMAIL)
    with pytest.raises(TooManyAttempts):
        await email.verify(anna, portal.mail.last_code)
    assert (await portal.who(9)).account_id is None
    clock.advance(timedelta(hours=1, seconds=1))
    await email.request_code(anna, ANNA_EMAIL)
    assert (await email.verify(anna, portal.mail.last_code)).method == AuthMethod.EMAIL
