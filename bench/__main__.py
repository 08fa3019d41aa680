"""``python -m bench [name …]``: run the benchmarks and print each figure beside its baseline."""

from __future__ import annotations

import asyncio
import sys

from bench import offers, queue_depth, race, scale, throughput
from bench.common import POSTGRES_URL


async def main(names: list[str]) -> None:
    wanted = set(names) or {"throughput", "race", "scale", "queue", "offers"}
    if "throughput" in wanted:
        for line in throughput.run(("sqlite", "postgres") if POSTGRES_URL else ("sqlite",)):
            print(line, flush=True)
    if "race" in wanted:
        print(await race.run("sqlite"), flush=True)
        if POSTGRES_URL:
            print(await race.run("postgres"), flush=True)
    if "queue" in wanted:
        for line in await queue_depth.run():
            print(line, flush=True)
    if "offers" in wanted:
        for line in await offers.run():
            print(line, flush=True)
    if "scale" in wanted:
        for line in await scale.run():
            print(line, flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
