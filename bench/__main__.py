"""``python -m bench [rush race queue offers scale] [--postgres URL] [--rounds N] [--apart]``: run the benchmarks
(all of them by default), print each figure beside its baseline, and a short summary at the end.

PostgreSQL: the rush and the race run on it too when a URL is given, by ``--postgres`` or in
BENCH_POSTGRES_URL / TEST_POSTGRES_URL (``postgresql+asyncpg://user@host:5432/db``; the rush
creates a database of its own there, so the user needs CREATEDB).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from functools import partial

from bench import offers, queue_depth, race, rush, scale
from bench.common import POSTGRES_URL, Outcome

NAMES = ("rush", "race", "queue", "offers", "scale")


def _plan(names: list[str], postgres: str | None, rounds: int, apart: bool
          ) -> list[Callable[[], Awaitable[Outcome]]]:
    urls = [None, postgres] if postgres else [None]
    steps: dict[str, list[Callable[[], Awaitable[Outcome]]]] = {
        "rush": [partial(rush.run, url, rounds, apart=apart) for url in urls],
        "race": [partial(race.run, url) for url in urls],
        "queue": [queue_depth.run],
        "offers": [offers.run],
        "scale": [scale.run],
    }
    return [step for name in NAMES if name in names for step in steps[name]]


async def main(names: list[str], postgres: str | None, rounds: int, apart: bool) -> bool:
    started = time.monotonic()
    outcomes = []
    for step in _plan(names, postgres, rounds, apart):
        outcome = await step()
        print("\n".join(outcome.lines), flush=True)
        outcomes.append(outcome)
    print(f"\nsummary ({time.monotonic() - started:.0f} s):")
    for outcome in outcomes:
        print(f"  {outcome.summary}")
    return all(outcome.ok for outcome in outcomes)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench", description="Run the benchmarks and print a summary.")
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"which: {', '.join(NAMES)} (default: all)")
    parser.add_argument("--postgres", default=POSTGRES_URL, metavar="URL",
                        help="also run the rush and the race on this PostgreSQL server")
    parser.add_argument("--rounds", type=int, default=rush.ROUNDS, help="rounds of the rush (default: %(default)s)")
    parser.add_argument("--apart", action="store_true",
                        help="the rush's bot and bare bot one after the other, not at the same moments")
    args = parser.parse_args()
    if unknown := set(args.names) - set(NAMES):
        parser.error(f"no benchmark called {', '.join(sorted(unknown))}")
    raise SystemExit(0 if asyncio.run(main(args.names or list(NAMES), args.postgres, args.rounds, args.apart)) else 1)
