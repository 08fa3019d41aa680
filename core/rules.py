"""Operator-set system rules (R25): the cancel cutoff and how long an offer is held."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from core.clock import Clock
from core.enums import Role
from core.errors import InvalidInput, NotFound
from core.identity import Identity
from storage.db import Database
from storage.uow import UnitOfWork

CANCEL_CUTOFF = "cancel_cutoff"
OFFER_MINUTES = "offer_minutes"


@dataclass(frozen=True)
class Rules:
    cancel_cutoff: time
    offer_minutes: int


@dataclass(frozen=True)
class RuleDefaults:
    cancel_cutoff: time = time(18, 0)
    offer_minutes: int = 120


def parse_cutoff(raw: str) -> time:
    try:
        hours, minutes = raw.strip().replace(".", ":").split(":")
        return time(int(hours), int(minutes))
    except ValueError as exc:
        raise InvalidInput("cancel_cutoff", "format") from exc


def parse_offer_minutes(raw: str) -> int:
    try:
        value = int(raw.strip())
    except ValueError as exc:
        raise InvalidInput("offer_minutes", "format") from exc
    if not 5 <= value <= 24 * 60:
        raise InvalidInput("offer_minutes", "range")
    return value


async def current(uow: UnitOfWork, defaults: RuleDefaults) -> Rules:
    """Read on each use inside the caller's transaction, so an operator's change applies at once."""
    stored = await uow.rules.all()
    cutoff = parse_cutoff(stored[CANCEL_CUTOFF]) if CANCEL_CUTOFF in stored else defaults.cancel_cutoff
    minutes = int(stored[OFFER_MINUTES]) if OFFER_MINUTES in stored else defaults.offer_minutes
    return Rules(cutoff, minutes)


async def seed_defaults(db: Database, defaults: RuleDefaults, now: datetime) -> None:
    """Store the configured defaults once, so every process and job reads the same rules."""
    async with db.write() as uow:
        await uow.rules.put_if_absent(CANCEL_CUTOFF, f"{defaults.cancel_cutoff:%H:%M}", now)
        await uow.rules.put_if_absent(OFFER_MINUTES, str(defaults.offer_minutes), now)
        await uow.commit()


class RulesService:
    def __init__(self, db: Database, clock: Clock, defaults: RuleDefaults) -> None:
        self.db = db
        self.clock = clock
        self.defaults = defaults

    async def show(self, identity: Identity) -> Rules:
        identity.require_role(Role.OPERATOR)
        async with self.db.read() as uow:
            return await current(uow, self.defaults)

    async def set_cancel_cutoff(self, identity: Identity, raw: str) -> Rules:
        identity.require_role(Role.OPERATOR)
        value = parse_cutoff(raw)
        return await self._put(identity, CANCEL_CUTOFF, f"{value:%H:%M}")

    async def set_offer_minutes(self, identity: Identity, raw: str) -> Rules:
        identity.require_role(Role.OPERATOR)
        value = parse_offer_minutes(raw)
        return await self._put(identity, OFFER_MINUTES, str(value))

    async def organizations(self, identity: Identity) -> list[tuple[int, str, bool]]:
        """R26: each organization and whether it keeps a waitlist."""
        identity.require_role(Role.OPERATOR)
        async with self.db.read() as uow:
            return [(o.id, o.name, o.waitlist_enabled) for o in await uow.clinic.organizations()]

    async def set_waitlist(self, identity: Identity, organization_id: int, enabled: bool) -> None:
        """R26: switch an organization's waitlist on or off; entries already queued stay queued."""
        identity.require_role(Role.OPERATOR)
        now = self.clock.now()
        async with self.db.write() as uow:
            org = await uow.clinic.organization(organization_id)
            if org is None:
                raise NotFound()
            org.waitlist_enabled = enabled
            uow.audit.record(now, "rules.waitlist", actor=identity.telegram_id, subject=f"organization:{org.id}",
                             details={"enabled": enabled})
            await uow.commit()

    async def _put(self, identity: Identity, key: str, value: str) -> Rules:
        identity.require_role(Role.OPERATOR)
        now = self.clock.now()
        async with self.db.write() as uow:
            before = await uow.rules.get(key)
            await uow.rules.put(key, value, now, identity.telegram_id)
            uow.audit.record(now, f"rules.{key}", actor=identity.telegram_id,
                             details={"from": before, "to": value})
            rules = await current(uow, self.defaults)
            await uow.commit()
        return rules
