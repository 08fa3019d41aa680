"""The per-process identity cache must never outlive a change this process made (R1, R3)."""

from __future__ import annotations

from core.access import AccessService
from core.clock import FixedClock
from core.identity import IdentityCache
from core.login import EmailLogin
from storage.db import Database
from tests import factories


class Outbox:
    def __init__(self) -> None:
        self.codes: list[str] = []

    async def send_login_code(self, to: str, code: str, ttl_minutes: int) -> None:
        self.codes.append(code)


async def test_login_and_logout_are_seen_at_once(db: Database, clock: FixedClock) -> None:
    cache = IdentityCache(ttl_seconds=3600)
    access = AccessService(db, clock, factories.STAFF, factories.CONSENT, cache)
    mail = Outbox()
    login = EmailLogin(db, clock, mail, "secret", cache=cache)

    await access.give_consent(77, 77)
    before = await access.identify(77, 77)
    assert before.consented and before.account_id is None

    await login.request_code(before, "cache@example.ru")
    await login.verify(before, mail.codes[-1])
    after = await access.identify(77, 77)
    assert after.account_id is not None

    assert await access.logout(after)
    assert (await access.identify(77, 77)).account_id is None
    await access.withdraw_consent(after)
    assert not (await access.identify(77, 77)).consented
