"""Messages owed to people after a state change: written to the outbox in the same transaction.

The payload carries ids and the few facts the text needs; ``bot/outbox`` renders and sends.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from storage.uow import UnitOfWork


class Kind(StrEnum):
    MODERATION_REQUEST = "moderation_request"
    MODERATION_RESULT = "moderation_result"
    MODERATION_HANDLED = "moderation_handled"  # to the other moderators: nothing left to decide
    OFFER = "offer"
    OFFER_LAPSED = "offer_lapsed"
    QUEUE_EXHAUSTED = "queue_exhausted"
    APPOINTMENT_WITHDRAWN = "appointment_withdrawn"
    REMINDER = "reminder"


async def to_account(uow: UnitOfWork, account_id: int, kind: Kind, payload: dict[str, Any], now: datetime) -> int:
    chats = await uow.login.chats_of_account(account_id)
    for chat_id in chats:
        uow.outbox.add(chat_id, kind, payload, now)
    return len(chats)


def to_chat(uow: UnitOfWork, chat_id: int, kind: Kind, payload: dict[str, Any], now: datetime) -> None:
    uow.outbox.add(chat_id, kind, payload, now)
