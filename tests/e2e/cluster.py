"""Several real bot processes in webhook mode on one PostgreSQL database and one Redis, behind the
fake Telegram server that delivers updates round-robin over them (issue 16).

Each test gets a database of its own (``CREATE DATABASE … TEMPLATE`` of one migrated with the
demo clinics) and a Redis database number of its own, flushed afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import asyncpg
import redis.asyncio as aioredis
from aiohttp import web
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from core.enums import AppointmentSource, AppointmentStatus, SlotStatus, WaitlistStatus
from storage.db import Database
from storage.models import Appointment, WaitlistEntry
from tests import factories
from tests.e2e.harness import ROOT, BotProcess
from tests.fake_telegram.server import FakeTelegramServer
from tests.fake_telegram.webhook import SECRET_HEADER

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("TEST_REDIS_URL")
SKIP_REASON = "TEST_POSTGRES_URL and TEST_REDIS_URL are both needed for the cluster tests"

WEBHOOK_PATH = "/telegram/webhook"
PUBLIC_URL = "https://medbot.example.test"  # what setWebhook names; the fake posts to the instances instead
SECRET = "cluster-test-secret_1"
REDIS_CLAIM = "medbot-cluster-tests:claim"


# ---- PostgreSQL: a database per test ------------------------------------------------------


def _dsn(url: str) -> str:
    """The SQLAlchemy URL as asyncpg takes it (no ``+asyncpg``)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


async def _admin(statement: str) -> None:
    assert POSTGRES_URL
    conn = await asyncpg.connect(_dsn(POSTGRES_URL))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def make_template() -> str:
    """A database migrated with the demo clinics by ``python -m bot demo``; returns its name."""
    assert POSTGRES_URL
    name = f"medbot_tmpl_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo"], cwd=ROOT, capture_output=True, text=True, timeout=180, check=False,
        env={**os.environ, "BOT_TOKEN": "1:template", "DATABASE_URL": _with_database(POSTGRES_URL, name)})
    assert result.returncode == 0, result.stderr
    return name


def drop_template(name: str) -> None:
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@asynccontextmanager
async def database_from(template: str) -> AsyncIterator[str]:
    """A copy of ``template`` for one test; yields its SQLAlchemy URL and drops it afterwards."""
    assert POSTGRES_URL
    name = f"medbot_t_{uuid.uuid4().hex[:12]}"
    await _admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield _with_database(POSTGRES_URL, name)
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---- Redis: a database number per test ----------------------------------------------------


@asynccontextmanager
async def redis_database() -> AsyncIterator[str]:
    """An empty Redis database number nobody else claimed (other test runs share the server)."""
    assert REDIS_URL
    root = re.sub(r"/\d+$", "", REDIS_URL.rstrip("/"))
    token = uuid.uuid4().hex
    for number in range(1, 16):
        url = f"{root}/{number}"
        client = aioredis.from_url(url)
        try:
            if await client.dbsize() == 0 and await client.set(REDIS_CLAIM, token, nx=True, ex=3600):
                break
        finally:
            await client.aclose()
    else:
        raise AssertionError(f"no free Redis database on {root}")
    try:
        yield url
    finally:
        client = aioredis.from_url(url)
        try:
            await client.flushdb()
        finally:
            await client.aclose()


# ---- a bot instance in webhook mode -------------------------------------------------------


class BotInstance(BotProcess):
    """``python -m bot`` with TELEGRAM_MODE=webhook, its own web port, on the shared database and Redis."""

    def __init__(self, api: FakeTelegramServer, folder: Path, name: str, database_url: str, redis_url: str,
                 env: dict[str, str] | None = None) -> None:
        super().__init__(api, folder, {
            "TELEGRAM_MODE": "webhook",
            "WEBHOOK_BASE_URL": PUBLIC_URL,
            "WEBHOOK_PATH": WEBHOOK_PATH,
            "WEBHOOK_SECRET": SECRET,
            "REDIS_URL": redis_url,
            "INSTANCE_NAME": name,
            "LEADER_RETRY_SECONDS": "1",
            "DRAIN_SECONDS": "5",
            **(env or {}),
        })
        self.name = name
        self.database_url = database_url
        self.log_path = folder / f"{name}.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def webhook_url(self) -> str:
        return self.base_url + WEBHOOK_PATH

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def start(self, extra_env: dict[str, str] | None = None, timeout: float = 60.0, *,
                    clock_at: object = None) -> None:
        """Started and ready: /readyz answers 200 and the fake recorded this start's setWebhook."""
        assert clock_at is None, "the instances of a cluster share the wall clock"
        self._extra = dict(extra_env or {})
        hooks_before = len(self.api.calls_to("setWebhook"))
        with self.log_path.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", cwd=ROOT, env=self.env(self._extra), stdout=log,
                stderr=asyncio.subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as session:
            while True:
                if self.proc.returncode is not None:
                    raise AssertionError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
                if time.monotonic() > deadline:
                    raise AssertionError(f"{self.name} was not ready in {timeout} s:\n{self.log_tail()}")
                if len(self.api.calls_to("setWebhook")) > hooks_before and await self._ready(session):
                    return
                await asyncio.sleep(0.1)

    async def _ready(self, session: aiohttp.ClientSession) -> bool:
        try:
            async with session.get(self.base_url + "/readyz", timeout=aiohttp.ClientTimeout(total=2)) as response:
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    async def kill(self) -> None:
        """kill -9: no drain, no goodbye."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
        async with aiohttp.ClientSession() as session, session.get(self.base_url + path, headers=headers) as response:
            return response.status, await response.text()

    async def post_update(self, update: dict[str, object], secret: str | None) -> int:
        """POST an update straight to the webhook, as anyone on the network could."""
        headers = {} if secret is None else {SECRET_HEADER: secret}
        async with aiohttp.ClientSession() as session, \
                session.post(self.webhook_url, json=update, headers=headers) as response:
            return response.status

    async def metric(self, name: str) -> float | None:
        """The sum of a metric's samples on /metrics (all labels), None when it is not there."""
        status, body = await self.get("/metrics")
        assert status == 200, body
        values = [float(line.rsplit(" ", 1)[1]) for line in body.splitlines()
                  if line.startswith(name) and not line.startswith("#")
                  and re.match(rf"{re.escape(name)}(\{{.*\}})? ", line)]
        return sum(values) if values else None

    async def is_leader(self) -> bool:
        return (await self.metric("medbot_is_leader") or 0) >= 1


# ---- a reverse proxy in front of each instance --------------------------------------------


@dataclass
class Faults:
    """What the reverse proxies do wrong, shared by all of them: the next ``lose`` answers are lost
    on the way back (the bot acted; Telegram sees a 502 and delivers the update again, elsewhere),
    the next ``slow`` answers are held ``slow_seconds`` (past Telegram's timeout)."""

    lose: int = 0
    slow: int = 0
    slow_seconds: float = 0.0
    spoiled: list[tuple[int, str]] = field(default_factory=list)  # (update id, "lost" | "slow")


@dataclass
class Relay:
    """The reverse proxy between Telegram and one instance."""

    target: str
    faults: Faults
    url: str = ""
    forwarded: list[tuple[int, int]] = field(default_factory=list)  # (update id, the instance's status)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        update_id = int(json.loads(body)["update_id"])
        headers = {key: value for key, value in request.headers.items()
                   if key.lower() in {SECRET_HEADER.lower(), "content-type"}}
        try:
            async with aiohttp.ClientSession() as session, \
                    session.post(self.target, data=body, headers=headers) as response:
                answer = await response.read()
                status = response.status
                content_type = response.headers.get("Content-Type", "application/json")
        except aiohttp.ClientError:
            self.forwarded.append((update_id, 0))
            return web.Response(status=502, text="instance unreachable")
        self.forwarded.append((update_id, status))
        if self.faults.lose > 0:
            self.faults.lose -= 1
            self.faults.spoiled.append((update_id, "lost"))
            return web.Response(status=502, text="answer lost")
        if self.faults.slow > 0:
            self.faults.slow -= 1
            self.faults.spoiled.append((update_id, "slow"))
            await asyncio.sleep(self.faults.slow_seconds)
        return web.Response(status=status, body=answer, headers={"Content-Type": content_type})


@asynccontextmanager
async def relay_for(target: str, faults: Faults) -> AsyncIterator[Relay]:
    relay = Relay(target, faults)
    app = web.Application()
    app.router.add_post(WEBHOOK_PATH, relay.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.5, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    relay.url = f"http://127.0.0.1:{runner.addresses[0][1]}{WEBHOOK_PATH}"
    try:
        yield relay
    finally:
        await runner.cleanup()


# ---- the cluster --------------------------------------------------------------------------


@dataclass
class Cluster:
    api: FakeTelegramServer
    db: Database  # the test's own connection to the shared database
    instances: list[BotInstance]
    relays: list[Relay]
    faults: Faults

    async def start(self) -> None:
        """One after another: each one's readiness is told by its own setWebhook call."""
        for instance in self.instances:
            await instance.start()
        self.api.webhook_targets = [relay.url for relay in self.relays]

    async def stop(self) -> None:
        await asyncio.gather(*(instance.stop() for instance in self.instances))

    async def leaders(self) -> list[str]:
        return [instance.name for instance in self.instances if instance.alive and await instance.is_leader()]

    async def wait_for_leader(self, among: list[BotInstance], timeout: float = 15.0) -> BotInstance:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for instance in among:
                if instance.alive and await instance.is_leader():
                    return instance
            await asyncio.sleep(0.2)
        raise AssertionError(f"none of {[i.name for i in among]} became the leader in {timeout} s")

    def logs(self) -> str:
        return "\n".join(f"--- {instance.name} ({instance.log_path})\n{instance.log_tail(30)}"
                         for instance in self.instances)


@asynccontextmanager
async def cluster(template: str, size: int = 2, *, env: dict[str, str] | None = None,
                  webhook_timeout: float = 5.0, retry_delay: float = 0.3) -> AsyncIterator[Cluster]:
    """``size`` instances, not started yet, each behind its relay; stopped and cleaned up afterwards.

    The instances' logs go to a folder of their own under the system's temp folder, kept: pytest's
    tmp_path of a long test may be swept by other pytest runs on the same machine meanwhile."""
    folder = Path(tempfile.mkdtemp(prefix="medbot-cluster-"))
    async with contextlib.AsyncExitStack() as stack:
        api = await stack.enter_async_context(
            FakeTelegramServer(webhook_timeout=webhook_timeout, webhook_retry_delay=retry_delay))
        database_url = await stack.enter_async_context(database_from(template))
        redis_url = await stack.enter_async_context(redis_database())
        db = Database(database_url)
        stack.push_async_callback(db.dispose)
        instances = [BotInstance(api, folder, f"bot-{chr(ord('a') + n)}", database_url, redis_url, env)
                     for n in range(size)]
        faults = Faults()
        relays = [await stack.enter_async_context(relay_for(instance.webhook_url, faults)) for instance in instances]
        group = Cluster(api, db, instances, relays, faults)
        stack.push_async_callback(group.stop)
        yield group
        assert not api.internal_errors, api.internal_errors


async def until(check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        await asyncio.sleep(0.1)


async def queue_scene(db: Database, count: int) -> tuple[list[int], int]:
    """A doctor whose ``count`` times are all booked by one patient (50 000), and ``count`` patients
    queued for the doctor (60 000 + i); returns the appointments and the booker's Telegram id."""
    now = datetime.now(UTC)
    booker_id = 50_000
    _, (doctor,) = await factories.clinic(db, waitlist=True)
    booker, (owner,) = await factories.account(db, booker_id, now)
    first = (now + timedelta(days=3)).replace(hour=6, minute=0, second=0, microsecond=0)
    slots = await factories.slots(db, doctor, first, count, step=timedelta(minutes=10), status=SlotStatus.BOOKED)
    queued = [await factories.account(db, 60_000 + i, now) for i in range(count)]
    async with db.write() as uow:
        result = await uow.session.execute(insert(Appointment).returning(Appointment.id), [{
            "slot_id": s.id, "doctor_id": doctor.id, "starts_at": s.starts_at, "patient_id": owner.id,
            "made_by_account_id": booker.account_id, "source": AppointmentSource.PORTAL,
            "status": AppointmentStatus.ACTIVE, "created_at": now} for s in slots])
        appointment_ids = list(result.scalars())
        await uow.session.execute(insert(WaitlistEntry), [{
            "patient_id": people[0].id, "account_id": identity.account_id,
            "organization_id": doctor.organization_id, "specialty_id": doctor.specialty_id, "doctor_id": doctor.id,
            "status": WaitlistStatus.WAITING, "offers_used": 0, "queued_at": now + timedelta(milliseconds=i),
        } for i, (identity, people) in enumerate(queued)])
        await uow.commit()
    return appointment_ids, booker_id
