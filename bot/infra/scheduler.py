"""APScheduler as a clock: each job re-reads the database, so a missed tick loses nothing."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger(__name__)


def _guarded(name: str, job: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        try:
            await job()
        except Exception:
            log.exception("job %s failed; it runs again on the next tick", name)

    return run


def make_scheduler(jobs: dict[str, tuple[Callable[[], Awaitable[Any]], float]]) -> AsyncIOScheduler:
    """``jobs``: name → (coroutine function, interval in seconds)."""
    scheduler = AsyncIOScheduler(job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None})
    for name, (job, seconds) in jobs.items():
        scheduler.add_job(_guarded(name, job), "interval", seconds=seconds, id=name, name=name)
    return scheduler
