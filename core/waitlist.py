"""The waitlist (R8–R15)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from storage.uow import UnitOfWork


async def offer_freed_slots(uow: UnitOfWork, slot_ids: Sequence[int], now: datetime) -> None:
    """Filled in by the waitlist work; until then a freed slot simply stays free."""
    return None
