"""What this process keeps in memory of the database to show screens without a round trip.

Each view keeps itself true to this process's own commits and re-reads after its ttl; none of
them authorizes anything: services decide against the database in their transactions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from core.catalog import CatalogCache
from core.clock import Clock
from core.free_times import FreeTimeCache
from core.people_cache import PeopleCache
from core.rules import RuleDefaults, RulesCache
from storage.db import Database


@dataclass(frozen=True)
class Views:
    catalog: CatalogCache
    free_times: FreeTimeCache
    people: PeopleCache
    rules: RulesCache

    @property
    def horizon(self) -> timedelta:
        return self.free_times.horizon

    @classmethod
    def of(cls, db: Database, clock: Clock, *, horizon_days: int = 14, defaults: RuleDefaults | None = None,
           free_times_ttl: float = 15.0, catalog: CatalogCache | None = None) -> Views:
        return cls(
            catalog=catalog or CatalogCache(db),
            free_times=FreeTimeCache(db, clock, timedelta(days=horizon_days), free_times_ttl),
            people=PeopleCache(db),
            rules=RulesCache(db, defaults or RuleDefaults()),
        )
