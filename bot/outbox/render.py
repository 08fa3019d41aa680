"""Turns an outbox row into the message a person sees. One function per kind."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.keyboards import moderation as mod_kb
from bot.outbox.sender import Rendered
from bot.texts import moderation as mod_texts
from core.notify import Kind
from storage.models import OutboxMessage

log = logging.getLogger(__name__)
KindRenderer = Callable[[dict[str, Any]], Awaitable[Rendered | None]]


async def _moderation_request(payload: dict[str, Any]) -> Rendered:
    return Rendered(mod_texts.submission(payload), mod_kb.decision(int(payload["patient_id"])))


async def _moderation_result(payload: dict[str, Any]) -> Rendered:
    return Rendered(mod_texts.result(payload))


class OutboxRenderer:
    def __init__(self) -> None:
        self.kinds: dict[str, KindRenderer] = {
            Kind.MODERATION_REQUEST: _moderation_request,
            Kind.MODERATION_RESULT: _moderation_result,
        }

    def register(self, kind: str, renderer: KindRenderer) -> None:
        self.kinds[kind] = renderer

    async def __call__(self, message: OutboxMessage) -> Rendered | None:
        renderer = self.kinds.get(message.kind)
        if renderer is None:
            log.error("no renderer for outbox kind %s", message.kind)
            return None
        return await renderer(message.payload)
