"""Bulk look-ups for the clinic import (R27): one SELECT … IN (…) per type, chunked.

A bundle carries about a thousand slots; loading them one by one would cost a round trip each.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from core.enums import AppointmentStatus, OfferStatus
from storage.models import Appointment, Doctor, Offer, Organization, Slot, Specialty

CHUNK = 500  # well under SQLite's and asyncpg's bound-parameter limits

Row = TypeVar("Row", Organization, Specialty, Doctor, Slot, Appointment)


def _chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    items = sorted(set(values))
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


class SyncRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, row: Any) -> None:
        self.session.add(row)

    def add_all(self, rows: Iterable[Any]) -> None:
        self.session.add_all(rows)

    async def _by(self, model: type[Row], column: InstrumentedAttribute[Any], keys: Collection[Any]) -> dict[Any, Row]:
        found: dict[Any, Row] = {}
        for chunk in _chunks(keys):
            for row in await self.session.scalars(select(model).where(column.in_(chunk))):
                found[getattr(row, column.key)] = row
        return found

    async def organizations(self, external_ids: Collection[str]) -> dict[str, Organization]:
        return await self._by(Organization, Organization.external_id, external_ids)

    async def specialties(self, codes: Collection[str]) -> dict[str, Specialty]:
        return await self._by(Specialty, Specialty.code, codes)

    async def doctors(self, external_ids: Collection[str]) -> dict[str, Doctor]:
        return await self._by(Doctor, Doctor.external_id, external_ids)

    async def slots(self, external_ids: Collection[str]) -> dict[str, Slot]:
        return await self._by(Slot, Slot.external_id, external_ids)

    async def slots_by_id(self, ids: Collection[int]) -> dict[int, Slot]:
        return await self._by(Slot, Slot.id, ids)

    async def appointments(self, external_ids: Collection[str]) -> dict[str, Appointment]:
        return await self._by(Appointment, Appointment.external_id, external_ids)

    async def active_appointments_on(self, slot_ids: Collection[int]) -> dict[int, list[Appointment]]:
        """Active appointments (portal and imported) on the given slots, by slot id."""
        found: dict[int, list[Appointment]] = defaultdict(list)
        for chunk in _chunks(slot_ids):
            rows = await self.session.scalars(
                select(Appointment).where(Appointment.slot_id.in_(chunk),
                                          Appointment.status == AppointmentStatus.ACTIVE))
            for row in rows:
                found[row.slot_id].append(row)
        return found

    async def pending_offers_on(self, slot_ids: Collection[int]) -> list[Offer]:
        found: list[Offer] = []
        for chunk in _chunks(slot_ids):
            found.extend(await self.session.scalars(
                select(Offer).where(Offer.slot_id.in_(chunk), Offer.status == OfferStatus.PENDING)))
        return found
