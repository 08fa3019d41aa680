"""Doctors' free times within the booking horizon, kept in memory between updates (R6).

Every step of «Запись к врачу» shows free time: the doctors with their nearest free time, a
doctor's dates, a day's times, the summary. Reading them from the database on each tap costs
a round trip per update; they change only when a slot is booked, freed, held or imported.

The view is kept exact for this process: every committed change of a slot reaches ``apply``
(``Database.listen_slots``) and is patched in, and an import starts the view over. What
another process changes (a second bot instance) is seen after ``ttl``. A stale view can only
show a time that is already gone: booking re-checks the slot in the database (R7), and the
refusal drops the doctor's entry so the patient is shown fresh times.
"""

from __future__ import annotations

import asyncio
import time
from bisect import bisect_left, insort
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.clock import Clock
from core.enums import SlotStatus
from storage.changes import SlotChange
from storage.db import Database

_Key = tuple[datetime, int]  # (starts_at, slot_id): sorted by time, unique by id


@dataclass(frozen=True)
class FreeTime:
    slot_id: int
    starts_at: datetime


@dataclass
class _Entry:
    expires: float
    keys: list[_Key]  # sorted
    loaded_until: datetime  # slots after this were not loaded


class FreeTimeCache:
    def __init__(self, db: Database, clock: Clock, horizon: timedelta, ttl_seconds: float = 15.0,
                 max_doctors: int = 2_000) -> None:
        self.db = db
        self.clock = clock
        self.horizon = horizon
        self.ttl = ttl_seconds
        self.max_doctors = max_doctors
        self._entries: OrderedDict[int, _Entry] = OrderedDict()
        self._slots: dict[int, tuple[int, datetime]] = {}  # slot id → (doctor, start) of the slots held
        # A change that lands while a doctor's slots are being read must not be overwritten by
        # that older read: loads store only if the doctor's version did not move meanwhile.
        self._versions: dict[int, int] = {}
        self._epoch = 0
        # Patients who open the same doctor at once wait for one read instead of each making their own.
        self._loading: dict[int, asyncio.Future[list[_Key]]] = {}
        db.listen_slots(self.apply)

    # --- reading ---

    async def times(self, doctor_id: int, after: datetime | None = None,
                    before: datetime | None = None) -> list[FreeTime]:
        """A doctor's free times after ``after`` and before ``before``, never outside now → horizon."""
        now = self.clock.now()
        keys = (await self._keys([doctor_id], now))[doctor_id]
        low = max(after, now) if after is not None else now
        high = min(before, now + self.horizon) if before is not None else now + self.horizon
        return [FreeTime(slot_id, starts) for starts, slot_id in keys[bisect_left(keys, (low, 2**63)):
                                                                      bisect_left(keys, (high, -1))]]

    async def next_free(self, doctor_ids: Sequence[int]) -> dict[int, datetime]:
        """Each doctor's nearest free time within the horizon; the doctors not held are read in one query."""
        now = self.clock.now()
        nearest = {}
        for doctor_id, keys in (await self._keys(doctor_ids, now)).items():
            at = bisect_left(keys, (now, 2**63))
            if at < len(keys) and keys[at][0] < now + self.horizon:
                nearest[doctor_id] = keys[at][0]
        return nearest

    def find(self, slot_id: int) -> tuple[int, FreeTime] | None:
        """A slot this view holds as free, with its doctor; ``None`` says «ask the database»."""
        held = self._slots.get(slot_id)
        if held is None:
            return None
        doctor_id, starts = held
        entry = self._entries.get(doctor_id)
        if entry is None or entry.expires < time.monotonic():
            return None
        return doctor_id, FreeTime(slot_id, starts)

    async def _keys(self, doctor_ids: Sequence[int], now: datetime) -> dict[int, list[_Key]]:
        keys: dict[int, list[_Key]] = {}
        missing: list[int] = []
        clock = time.monotonic()
        for doctor_id in doctor_ids:
            entry = self._entries.get(doctor_id)
            if entry is None or entry.expires < clock or entry.loaded_until < now + self.horizon:
                missing.append(doctor_id)
            else:
                self._entries.move_to_end(doctor_id)
                keys[doctor_id] = entry.keys
        waiting = {d: self._loading[d] for d in missing if d in self._loading}
        to_load = [d for d in missing if d not in waiting]
        if to_load:
            keys.update(await self._load(to_load, now))
        for doctor_id, loading in waiting.items():
            keys[doctor_id] = await asyncio.shield(loading)
        return keys

    async def _load(self, doctor_ids: list[int], now: datetime) -> dict[int, list[_Key]]:
        epoch, versions = self._epoch, {d: self._versions.get(d, 0) for d in doctor_ids}
        # A day past the horizon, so an entry stays usable for its whole ttl as «now» moves on.
        until = now + self.horizon + timedelta(days=1)
        futures = {d: asyncio.get_running_loop().create_future() for d in doctor_ids}
        self._loading.update(futures)
        try:
            async with self.db.read() as uow:
                rows = await uow.slots.free_of_doctors(doctor_ids, now, until)
        except BaseException as exc:
            for doctor_id, future in futures.items():
                self._loading.pop(doctor_id, None)
                future.set_exception(exc)
                future.exception()  # whoever waited gets it; nobody waiting is not an error
            raise
        loaded: dict[int, list[_Key]] = {d: [] for d in doctor_ids}
        for doctor_id, slot_id, starts in rows:
            loaded[doctor_id].append((starts, slot_id))
        expires = time.monotonic() + self.ttl
        for doctor_id, keys in loaded.items():
            keys.sort()
            if epoch == self._epoch and versions[doctor_id] == self._versions.get(doctor_id, 0):
                self._store(doctor_id, _Entry(expires, keys, until))
            self._loading.pop(doctor_id, None)
            futures[doctor_id].set_result(keys)
        return loaded

    def _store(self, doctor_id: int, entry: _Entry) -> None:
        self._drop(doctor_id)
        self._entries[doctor_id] = entry
        for starts, slot_id in entry.keys:
            self._slots[slot_id] = (doctor_id, starts)
        while len(self._entries) > self.max_doctors:
            self._drop(next(iter(self._entries)))

    def _drop(self, doctor_id: int) -> None:
        entry = self._entries.pop(doctor_id, None)
        if entry is not None:
            for _, slot_id in entry.keys:
                self._slots.pop(slot_id, None)

    # --- keeping it true ---

    def apply(self, changes: list[SlotChange] | None) -> None:
        """Patch in what a committed transaction did to slots; ``None`` (an import) starts over."""
        if changes is None:
            self.clear()
            return
        for change in changes:
            self._versions[change.doctor_id] = self._versions.get(change.doctor_id, 0) + 1
            entry = self._entries.get(change.doctor_id)
            if entry is None:
                continue
            key = (change.starts_at, change.slot_id)
            at = bisect_left(entry.keys, key)
            present = at < len(entry.keys) and entry.keys[at] == key
            if change.status == SlotStatus.FREE and not present:
                insort(entry.keys, key)
                self._slots[change.slot_id] = (change.doctor_id, change.starts_at)
            elif change.status != SlotStatus.FREE and present:
                del entry.keys[at]
                self._slots.pop(change.slot_id, None)

    def forget(self, doctor_id: int) -> None:
        """The database disagreed with this view (a refused booking): read the doctor again."""
        self._versions[doctor_id] = self._versions.get(doctor_id, 0) + 1
        self._drop(doctor_id)

    def clear(self) -> None:
        self._epoch += 1
        self._entries.clear()
        self._slots.clear()
