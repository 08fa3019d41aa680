"""The rush's figures: each step's latency, updates/s and CPU time per update of the bot beside the
bare bot's, the floor check, and whether every race was exact in the database."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from bench.common import Outcome
from bench.patients import STEPS, Plan, Walk

FLOOR = 2.0  # the bot's p95 within this many times the bare bot's


@dataclass
class Rush:
    """One round: a bot under the rush."""

    walks: list[Walk]
    cpu: float  # the bot process's CPU seconds during the rush
    waited: float  # seconds its event loop was ready to run but waited for a CPU
    warmup_errors: list[str]
    start: float  # the first arrival

    @property
    def updates(self) -> int:
        return sum(len(w.latencies) for w in self.walks)

    @property
    def per_second(self) -> float:
        """Updates answered per second, from the first arrival to the last answer."""
        last = max((w.finished for w in self.walks), default=self.start)
        return self.updates / (last - self.start) if last > self.start else 0.0

    @property
    def errors(self) -> list[str]:
        spinning = sum(w.spinning for w in self.walks)
        return self.warmup_errors + [w.error for w in self.walks if w.error] + (
            [f"{spinning} buttons never answered"] if spinning else [])


def _pct(samples: list[float], q: float) -> float:
    """Nearest-rank percentile, in ms."""
    ordered = sorted(samples)
    return ordered[max(math.ceil(q * len(ordered)) - 1, 0)] * 1e3 if ordered else math.nan


def _samples(rounds: list[Rush], step: int | None) -> list[float]:
    return [s for r in rounds for w in r.walks for n, s in enumerate(w.latencies) if step in (None, n)]


@dataclass
class Races:
    """What one round of the bot left in the database, beside what the patients were told."""

    contested: int = 0
    once: int = 0  # contested times with exactly one active appointment
    split: int = 0  # pairs where one was booked and the other told the time was taken (or no longer shown it)
    gone: int = 0  # of them, not shown it any more when choosing the time
    overlapped: int = 0  # pairs whose two confirmations were in flight at once
    booked: int = 0  # «Вы записаны» shown
    stored: int = 0  # active appointments on the times aimed at
    doubled: int = 0  # times with more than one
    others: int = 0  # patients not in a pair
    others_booked: int = 0

    @classmethod
    def of(cls, rush: Rush, pairs: list[tuple[int, int]], plans: list[Plan], stored: dict[int, int]) -> Races:
        """``pairs``: the places in the arrival order of the two aiming at one time."""
        walks = rush.walks
        paired = {i for pair in pairs for i in pair}
        return cls(
            contested=len(pairs),
            once=sum(stored.get(plans[a].slot_id or 0, 0) == 1 for a, _ in pairs),
            split=sum(sorted((walks[a].outcome, walks[b].outcome)) in (["booked", "refused"], ["booked", "gone"])
                      for a, b in pairs),
            gone=sum(walks[a].outcome == "gone" or walks[b].outcome == "gone" for a, b in pairs),
            overlapped=sum(0 < max(walks[a].confirm_pressed, walks[b].confirm_pressed)
                           < min(walks[a].finished, walks[b].finished) for a, b in pairs
                           if walks[a].confirm_pressed and walks[b].confirm_pressed),
            booked=sum(w.outcome == "booked" for w in walks),
            stored=sum(stored.values()),
            doubled=sum(n > 1 for n in stored.values()),
            others=len(walks) - 2 * len(pairs),
            others_booked=sum(w.outcome == "booked" for i, w in enumerate(walks) if i not in paired),
        )

    def __add__(self, other: Races) -> Races:
        return Races(*(getattr(self, f) + getattr(other, f) for f in self.__dataclass_fields__))

    @property
    def exact(self) -> bool:
        return (self.once == self.split == self.contested and self.stored == self.booked and not self.doubled
                and self.others_booked == self.others)


def report(title: str, backend: str, bots: list[Rush], bares: list[Rush], races: list[Races]) -> Outcome:
    def cells(rounds: list[Rush], step: int | None) -> str:
        samples = _samples(rounds, step)
        return f"{_pct(samples, 0.5):7.1f} {_pct(samples, 0.95):7.1f} {max(samples, default=math.nan) * 1e3:7.1f}"

    def per_update(rounds: list[Rush], seconds: float) -> float:
        return seconds / max(sum(r.updates for r in rounds), 1) * 1e3

    def by_round(rounds: list[Rush]) -> str:
        return "/".join(f"{_pct(_samples([r], None), 0.95):.0f}" for r in rounds)

    lines = [f"rush [{backend}]: {title}",
             f"  {'step':<18} {'bot ms: p50':>11} {'p95':>7} {'max':>7}   {'bare ms: p50':>12} {'p95':>7} {'max':>7}"]
    for step, name in [*enumerate(STEPS), (None, "every step")]:
        lines.append(f"  {name:<18}     {cells(bots, step)}        {cells(bares, step)}")
    lines.append(f"  p95 of each round, ms: bot {by_round(bots)} | bare {by_round(bares)}")
    lines.append(f"  updates/s: bot {statistics.mean(r.per_second for r in bots):.0f} | "
                 f"bare {statistics.mean(r.per_second for r in bares):.0f}")
    lines.append(f"  CPU per update: bot {per_update(bots, sum(r.cpu for r in bots)):.2f} ms | "
                 f"bare {per_update(bares, sum(r.cpu for r in bares)):.2f} ms"
                 + (" (the PostgreSQL server's own not counted)" if backend == "postgres" else ""))
    lines.append(f"  waited for a CPU while other processes had it, per update: "
                 f"bot {per_update(bots, sum(r.waited for r in bots)):.2f} ms | "
                 f"bare {per_update(bares, sum(r.waited for r in bares)):.2f} ms")
    p95_bot, p95_bare = _pct(_samples(bots, None), 0.95), _pct(_samples(bares, None), 0.95)
    ratio = p95_bot / p95_bare if p95_bare else math.inf
    errors = {name: [e for r in rounds for e in r.errors] for name, rounds in (("bot", bots), ("bare", bares))}
    floor_ok = ratio <= FLOOR and not any(errors.values())
    lines.append(f"  floor: bot p95 {p95_bot:.1f} ms ≤ {FLOOR:.0f} × bare p95 {p95_bare:.1f} ms: ratio {ratio:.2f} — "
                 f"{'OK' if floor_ok else 'FAIL'}")
    total = sum(races, Races())
    exact = all(r.exact for r in races)
    lines.append(f"  races: {total.once} of {total.contested} contested times booked exactly once, {total.split} "
                 f"pairs with one booked and one told «уже занято» ({total.overlapped} with both confirmations in "
                 f"flight at once, {total.gone} where the time was gone before the second saw it); "
                 f"{total.others_booked} of {total.others} unpaired patients booked; "
                 f"{total.booked} «Вы записаны», {total.stored} stored, {total.doubled} times booked twice — "
                 f"{'OK' if exact else 'FAIL'}")
    for name, found in errors.items():
        if found:
            lines.append(f"  {name}: {len(found)} failures, the first: {found[0]}")
    summary = (f"rush [{backend}]: p95 {p95_bot:.0f} ms vs bare {p95_bare:.0f} ms (×{ratio:.2f}, floor ×{FLOOR:.0f}), "
               f"races {'exact' if exact else 'NOT exact'} — {'OK' if floor_ok and exact else 'FAIL'}")
    return Outcome(lines, summary, floor_ok and exact)
