"""/readyz (may this instance get traffic?) and /metrics (Prometheus text)."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.asyncio import Redis
from sqlalchemy import text

from bot.infra.metrics import OUTBOX_BACKLOG, REGISTRY
from core.clock import Clock
from storage.db import Database

log = logging.getLogger(__name__)
CHECK_TIMEOUT = 2.0  # seconds; a probe must answer before the proxy's own timeout


class Probes:
    def __init__(self, db: Database, clock: Clock, redis: Redis | None, *, metrics: bool) -> None:
        self.db, self.clock, self.redis, self.metrics = db, clock, redis, metrics
        self.draining = False

    async def problems(self) -> list[str]:
        found = []
        try:
            async with asyncio.timeout(CHECK_TIMEOUT), self.db.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as exc:
            found.append(f"database: {type(exc).__name__}")
        if self.redis is not None:
            try:
                async with asyncio.timeout(CHECK_TIMEOUT):
                    await self.redis.ping()
            except Exception as exc:
                found.append(f"redis: {type(exc).__name__}")
        return found

    async def ready(self, _: web.Request) -> web.Response:
        if self.draining:
            return web.Response(status=503, text="draining")
        problems = await self.problems()
        if problems:
            return web.Response(status=503, text="; ".join(problems))
        return web.Response(text="ready")

    async def scrape(self, _: web.Request) -> web.Response:
        try:
            async with self.db.read() as uow:
                OUTBOX_BACKLOG.set(await uow.outbox.backlog(self.clock.now()))
        except Exception as exc:  # the other metrics are still worth having
            log.warning("outbox backlog not read: %s", type(exc).__name__)
        body = generate_latest(REGISTRY)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
