"""Sliding-window request rates, for asserting the bot respects Telegram's limits.

Telegram allows about 1 message per second per chat and about 30 per second overall; the
bot's sender must throttle itself.  We count requests by arrival time (monotonic clock).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .models import ApiCall


@dataclass(frozen=True, slots=True)
class RateStats:
    """Maximum number of matching requests seen in any window of the given length."""

    window: float
    overall: int
    per_chat: dict[int | str, int]

    @property
    def max_per_chat(self) -> int:
        return max(self.per_chat.values(), default=0)


def max_in_window(times: Sequence[float], window: float) -> int:
    """Largest number of ``times`` inside any half-open interval ``[t, t + window)``."""
    ordered = sorted(times)
    best = 0
    start = 0
    for end, moment in enumerate(ordered):
        while moment - ordered[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def send_rate(
    calls: Iterable[ApiCall],
    *,
    window: float = 1.0,
    methods: Iterable[str] = ("sendMessage",),
    include_failed: bool = True,
) -> RateStats:
    """Rate statistics over ``calls``.

    Failed requests count by default: Telegram counts attempts, so a bot that hammers the
    API with retries after 429 is exceeding the limit too.
    """
    wanted = {method.lower() for method in methods}
    overall: list[float] = []
    by_chat: defaultdict[int | str, list[float]] = defaultdict(list)
    for call in calls:
        if call.method.lower() not in wanted or (not include_failed and not call.ok):
            continue
        overall.append(call.at)
        if call.chat_id is not None:
            by_chat[call.chat_id].append(call.at)
    return RateStats(
        window=window,
        overall=max_in_window(overall, window),
        per_chat={chat: max_in_window(times, window) for chat, times in by_chat.items()},
    )
