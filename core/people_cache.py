"""The people of each account's card file, kept in memory for the screens of «Запись к врачу».

Booking shows the person's name on several screens and needs their policy and SNILS for the
appointment row; a card file changes only when its owner edits it or a moderator decides. The
entries are snapshots, read-only: every committed change of a card file makes this process forget
that account at once (``Database.listen_card_files``), another process's change shows after
``ttl``. Nothing here authorizes an action: booking re-checks the person in its UPDATE (R2).
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from core.errors import NotFound
from storage.db import Database
from storage.snapshots import Person


class PeopleCache:
    def __init__(self, db: Database, ttl_seconds: float = 10.0, max_accounts: int = 100_000) -> None:
        self.db = db
        self.ttl = ttl_seconds
        self.max_accounts = max_accounts
        self._entries: dict[int, tuple[float, tuple[Person, ...]]] = {}
        # Counts committed card-file changes: a read that started before one must not store what it
        # saw (it may predate the change). Card files change rarely, so one counter for all will do.
        self.epoch = 0
        db.listen_card_files(self.forget)

    async def of_account(self, account_id: int) -> list[Person]:
        """The account's people, owner first, as the card file lists them."""
        entry = self._entries.get(account_id)
        if entry is not None and entry[0] >= time.monotonic():
            return list(entry[1])
        epoch = self.epoch
        async with self.db.read() as uow:
            people = [Person.of(patient) for patient in await uow.patients.of_account(account_id)]
        self.keep(account_id, epoch, people)
        return people

    def keep(self, account_id: int, epoch: int, people: list[Person]) -> None:
        """Keep what a read saw, unless a card file changed since ``epoch`` (taken before the read
        began: what it saw may predate the change)."""
        if epoch == self.epoch:
            if len(self._entries) >= self.max_accounts:
                self._entries.clear()  # crude but bounded, like the identity cache
            self._entries[account_id] = (time.monotonic() + self.ttl, tuple(people))

    async def person(self, account_id: int, patient_id: int) -> Person:
        """A person of this account's card file; any other id (a forged button) is «not found»."""
        for patient in await self.of_account(account_id):
            if patient.id == patient_id:
                return patient
        raise NotFound()

    def forget(self, account_ids: Iterable[int]) -> None:
        self.epoch += 1
        for account_id in account_ids:
            self._entries.pop(account_id, None)
