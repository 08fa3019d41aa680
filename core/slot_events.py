"""What happens when a slot becomes free: the waitlist gets the first say (R10, R27).

Called inside the transaction that freed the slot (a cancellation, an import that publishes
new time, a declined or expired offer), so the offer is written — and its message queued —
in the same commit as the event.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from core.waitlist import offer_freed_slots
from storage.uow import UnitOfWork


async def slots_freed(uow: UnitOfWork, slot_ids: Sequence[int], now: datetime) -> None:
    """Offer each freed slot to the first matching patient in the queue, if any."""
    await offer_freed_slots(uow, slot_ids, now)
