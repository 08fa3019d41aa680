"""«Отмена записи возможна до определенного времени дня, предыдущего посещению» (R17).

The day before is the clinic's day, in the clinic's time zone: near midnight the UTC date and
the local date differ, and the deadline must follow the local one. Expected moments are
written in UTC by hand (Moscow +3, Yekaterinburg +5, Vladivostok +10, Kaliningrad +2; no
daylight saving in Russia).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from core.cutoff import cancel_deadline, may_cancel

SIX_PM = time(18, 0)


def utc(day: int, hour: int, minute: int = 0, month: int = 12, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(("zone", "visit", "deadline"), [
    # Wed 2 Dec 10:00 Moscow = 07:00 UTC → Tue 1 Dec 18:00 Moscow = 15:00 UTC
    ("Europe/Moscow", utc(2, 7), utc(1, 15)),
    # Wed 2 Dec 00:30 Moscow = Tue 21:30 UTC: still Tuesday in UTC, Wednesday at the clinic
    ("Europe/Moscow", utc(1, 21, 30), utc(1, 15)),
    # Wed 2 Dec 00:30 Yekaterinburg = Tue 19:30 UTC → Tue 18:00 there = 13:00 UTC
    ("Asia/Yekaterinburg", utc(1, 19, 30), utc(1, 13)),
    # Wed 2 Dec 00:30 Vladivostok = Tue 14:30 UTC → Tue 18:00 there = 08:00 UTC
    ("Asia/Vladivostok", utc(1, 14, 30), utc(1, 8)),
    # Wed 2 Dec 09:00 Vladivostok = Tue 23:00 UTC: a morning visit, the deadline still Tuesday there
    ("Asia/Vladivostok", utc(1, 23), utc(1, 8)),
    # Wed 2 Dec 00:30 Kaliningrad = Tue 22:30 UTC → Tue 18:00 there = 16:00 UTC
    ("Europe/Kaliningrad", utc(1, 22, 30), utc(1, 16)),
    # Wed 2 Dec 23:30 Kaliningrad = Wed 21:30 UTC → the same Tuesday deadline
    ("Europe/Kaliningrad", utc(2, 21, 30), utc(1, 16)),
    # Tue 1 Dec 00:30 Vladivostok = Mon 30 Nov 14:30 UTC: the day before is in November
    ("Asia/Vladivostok", utc(30, 14, 30, month=11), utc(30, 8, month=11)),
    # Fri 1 Jan 2027 10:00 Moscow: the day before is New Year's Eve
    ("Europe/Moscow", utc(1, 7, month=1, year=2027), utc(31, 15)),
])
def test_deadline_is_six_pm_the_day_before_in_the_clinics_own_time(zone: str, visit: datetime,
                                                                    deadline: datetime) -> None:
    """R17: for a visit on Wednesday (clinic time) cancelling closes on Tuesday at the cutoff, clinic time."""
    assert cancel_deadline(visit, zone, SIX_PM) == deadline


def test_one_moment_is_a_different_day_in_different_clinics() -> None:
    """R17: Tue 1 Dec 21:30 UTC is Wednesday 00:30 in Moscow, still Tuesday 23:30 in Kaliningrad and
    Wednesday 07:30 in Vladivostok, so the three clinics close cancelling at three different moments."""
    visit = utc(1, 21, 30)
    assert cancel_deadline(visit, "Europe/Moscow", SIX_PM) == utc(1, 15)
    assert cancel_deadline(visit, "Europe/Kaliningrad", SIX_PM) == utc(30, 16, month=11)
    assert cancel_deadline(visit, "Asia/Vladivostok", SIX_PM) == utc(1, 8)


def test_cutoff_at_midnight_closes_the_whole_day_before() -> None:
    """R17, R25: an operator cutoff of 00:00 means cancelling ends as the day before begins."""
    # Wed 10:00 Moscow and Wed 00:30 Moscow: both close at Tue 00:00 Moscow = Mon 30 Nov 21:00 UTC.
    assert cancel_deadline(utc(2, 7), "Europe/Moscow", time(0, 0)) == utc(30, 21, month=11)
    assert cancel_deadline(utc(1, 21, 30), "Europe/Moscow", time(0, 0)) == utc(30, 21, month=11)
    # Wed 00:30 Vladivostok (Tue 14:30 UTC) closes at Tue 00:00 there = Mon 14:00 UTC.
    assert cancel_deadline(utc(1, 14, 30), "Asia/Vladivostok", time(0, 0)) == utc(30, 14, month=11)


def test_cutoff_at_23_59_leaves_minutes_before_a_visit_just_after_midnight() -> None:
    """R17, R25: with 23:59, a Wednesday 00:30 visit in Moscow may be cancelled until Tuesday 23:59 Moscow,
    31 minutes before it starts."""
    visit = utc(1, 21, 30)
    deadline = cancel_deadline(visit, "Europe/Moscow", time(23, 59))
    assert deadline == utc(1, 20, 59)
    assert visit - deadline == timedelta(minutes=31)


@pytest.mark.parametrize(("zone", "visit"), [
    ("Europe/Moscow", utc(1, 21, 30)),
    ("Asia/Vladivostok", utc(1, 14, 30)),
    ("Europe/Kaliningrad", utc(2, 21, 30)),
])
def test_cancel_is_allowed_until_the_deadline_and_not_at_it(zone: str, visit: datetime) -> None:
    """R17: the deadline itself is already too late."""
    deadline = cancel_deadline(visit, zone, SIX_PM)
    assert may_cancel(visit, zone, SIX_PM, deadline - timedelta(seconds=1))
    assert not may_cancel(visit, zone, SIX_PM, deadline)
    assert not may_cancel(visit, zone, SIX_PM, deadline + timedelta(hours=1))
    assert not may_cancel(visit, zone, SIX_PM, visit)


def test_a_later_cutoff_leaves_more_time() -> None:
    """R25: the operator's time is the only thing that moves the deadline."""
    visit, now = utc(2, 7), utc(1, 14, 30)  # Tuesday 17:30 Moscow
    assert not may_cancel(visit, "Europe/Moscow", time(17, 0), now)
    assert may_cancel(visit, "Europe/Moscow", time(18, 0), now)
