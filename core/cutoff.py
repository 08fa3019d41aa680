"""R17: cancelling is allowed until an operator-set time of the day before the visit,
in the clinic's own time zone (the registry prepares the next day's lists then)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


def cancel_deadline(starts_at: datetime, timezone: str, cutoff: time) -> datetime:
    zone = ZoneInfo(timezone)
    visit_day = starts_at.astimezone(zone).date()
    return datetime.combine(visit_day - timedelta(days=1), cutoff, zone)


def may_cancel(starts_at: datetime, timezone: str, cutoff: time, now: datetime) -> bool:
    return now < cancel_deadline(starts_at, timezone, cutoff)
