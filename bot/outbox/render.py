"""Turns an outbox row into the message a person sees. One function per kind.

Offers and reminders are re-checked against the database at sending time: an offer answered
or expired while its message waited in the queue is not sent at all.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from bot.keyboards import booking as booking_kb
from bot.keyboards import moderation as mod_kb
from bot.keyboards import waitlist as wait_kb
from bot.outbox.sender import Rendered
from bot.texts import moderation as mod_texts
from bot.texts import notices
from bot.texts import waitlist as wait_texts
from core.catalog import Catalog
from core.cutoff import may_cancel
from core.enums import AppointmentStatus, OfferStatus
from core.notify import Kind
from core.rules import RuleDefaults, current
from storage.db import Database
from storage.models import OutboxMessage

log = logging.getLogger(__name__)
KindRenderer = Callable[[dict[str, Any]], Awaitable[Rendered | None]]


class OutboxRenderer:
    def __init__(self, db: Database, catalog: Catalog, clock_now: Callable[[], datetime]) -> None:
        self.db = db
        self.catalog = catalog
        self.now = clock_now
        self.kinds: dict[str, KindRenderer] = {
            Kind.MODERATION_REQUEST: self._moderation_request,
            Kind.MODERATION_RESULT: self._moderation_result,
            Kind.MODERATION_HANDLED: self._moderation_handled,
            Kind.OFFER: self._offer,
            Kind.OFFER_LAPSED: self._offer_lapsed,
            Kind.QUEUE_EXHAUSTED: self._queue_exhausted,
            Kind.APPOINTMENT_WITHDRAWN: self._withdrawn,
            Kind.REMINDER: self._reminder,
        }

    async def __call__(self, message: OutboxMessage) -> Rendered | None:
        renderer = self.kinds.get(message.kind)
        if renderer is None:
            log.error("no renderer for outbox kind %s", message.kind)
            return None
        return await renderer(message.payload)

    async def _moderation_request(self, payload: dict[str, Any]) -> Rendered:
        return Rendered(mod_texts.submission(payload), mod_kb.decision(int(payload["patient_id"])))

    async def _moderation_result(self, payload: dict[str, Any]) -> Rendered:
        return Rendered(mod_texts.result(payload))

    async def _moderation_handled(self, payload: dict[str, Any]) -> Rendered:
        return Rendered(mod_texts.handled(payload))

    async def _offer(self, payload: dict[str, Any]) -> Rendered | None:
        async with self.db.read() as uow:
            offer = await uow.waitlist.offer(int(payload["offer_id"]))
            patient = await uow.patients.get(int(payload["patient_id"]))
        if offer is None or offer.status != OfferStatus.PENDING or offer.expires_at <= self.now():
            return None
        doctor = await self.catalog.doctor(int(payload["doctor_id"]))
        text = wait_texts.offer(patient.full_name if patient else None, doctor,
                                datetime.fromisoformat(payload["starts_at"]), offer.expires_at,
                                int(payload["attempt"]), int(payload["max"]))
        return Rendered(text, wait_kb.offer(offer.id))

    async def _offer_lapsed(self, payload: dict[str, Any]) -> Rendered:
        position = payload.get("position")  # absent from messages queued by an older version
        return Rendered(wait_texts.lapsed(int(payload["offers_left"]), None if position is None else int(position)))

    async def _queue_exhausted(self, payload: dict[str, Any]) -> Rendered:
        return Rendered(wait_texts.exhausted(str(payload["reason"])))

    async def _withdrawn(self, payload: dict[str, Any]) -> Rendered:
        return Rendered(notices.withdrawn(payload))

    async def _reminder(self, payload: dict[str, Any]) -> Rendered | None:
        appointment_id = int(payload["appointment_id"])
        async with self.db.read() as uow:
            appointment = await uow.appointments.get(appointment_id)
            rules = await current(uow, RuleDefaults())
        if appointment is None or appointment.status != AppointmentStatus.ACTIVE:
            return None
        doctor = await self.catalog.doctor(appointment.doctor_id)
        markup = None
        if may_cancel(appointment.starts_at, doctor.org.timezone, rules.cancel_cutoff, self.now()):
            markup = booking_kb.cancel_visit(appointment_id)
        return Rendered(notices.reminder(doctor, appointment.starts_at), markup)
