"""One leader among the instances: it alone runs the scheduler's jobs and the outbox sender, so
every tick runs once and Telegram's per-bot sending limits hold for the whole cluster.

PostgreSQL: a session advisory lock held on a connection of its own; the server frees it when that
connection dies (the process was killed, the network broke), and the instance that notices its
connection is gone stops leading at once. SQLite (one machine): an ``flock`` on a file next to the
database, freed by the kernel when the process dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

Hook = Callable[[], Awaitable[None]]
LOCK_NAME = "medbot-leader"


class _Lock:
    async def try_acquire(self) -> bool:
        raise NotImplementedError

    async def still_held(self) -> bool:
        raise NotImplementedError

    async def release(self) -> None:
        raise NotImplementedError


class AdvisoryLock(_Lock):
    """``pg_try_advisory_lock`` on a dedicated connection; the key is per schema, so databases of
    several tenants (or tests) on one server do not share a leader."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.connection: AsyncConnection | None = None
        self.backend_pid: int | None = None  # the server process holding the lock, for operators

    async def try_acquire(self) -> bool:
        connection = await self.engine.connect()
        try:
            schema = await connection.scalar(text("SELECT current_schema()"))
            key = zlib.crc32(f"{LOCK_NAME}:{schema}".encode())  # fits PostgreSQL's bigint key
            got = bool(await connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}))
            # Outside a transaction: the lock is the session's, and an idle connection holds nothing else.
            await connection.commit()
            if got:
                self.backend_pid = await connection.scalar(text("SELECT pg_backend_pid()"))
                await connection.commit()
        except BaseException:
            await connection.close()
            raise
        if not got:
            await connection.close()
            return False
        self.connection = connection
        return True

    async def still_held(self) -> bool:
        if self.connection is None:
            return False
        try:
            await self.connection.scalar(text("SELECT 1"))
            await self.connection.commit()
        except Exception:
            log.warning("the leader's database connection is gone: leadership lost")
            with contextlib.suppress(Exception):
                await self.connection.invalidate()
            self.connection = None
            return False
        return True

    async def release(self) -> None:
        if self.connection is None:
            return
        # Closing the session frees its advisory locks; the pool must not keep it, so it is dropped.
        with contextlib.suppress(Exception):
            await self.connection.invalidate()
        with contextlib.suppress(Exception):
            await self.connection.close()
        self.connection = None


class FileLock(_Lock):
    """``flock`` on ``<database>.leader``: SQLite instances share one machine."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file: IO[bytes] | None = None

    async def try_acquire(self) -> bool:
        file = self.path.open("ab")
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.close()
            return False
        self.file = file
        return True

    async def still_held(self) -> bool:
        return self.file is not None

    async def release(self) -> None:
        if self.file is not None:
            fcntl.flock(self.file.fileno(), fcntl.LOCK_UN)
            self.file.close()
            self.file = None


class AlwaysLeader(_Lock):
    """An in-memory SQLite database belongs to one process: it leads."""

    async def try_acquire(self) -> bool:
        return True

    async def still_held(self) -> bool:
        return True

    async def release(self) -> None:
        return None


def lock_for(engine: AsyncEngine) -> _Lock:
    if engine.dialect.name == "postgresql":
        return AdvisoryLock(engine)
    database = make_url(str(engine.url)).database
    if not database or database == ":memory:":
        return AlwaysLeader()
    return FileLock(Path(f"{os.path.abspath(database)}.leader"))


class Leadership:
    """Tries to lead every ``retry_seconds``; while leading, checks every ``retry_seconds`` that the
    lock is still held. ``on_lead`` starts the leader's work, ``on_follow`` stops it."""

    def __init__(self, engine: AsyncEngine, *, retry_seconds: float, on_lead: Hook | None = None,
                 on_follow: Hook | None = None, name: str = "") -> None:
        self.lock = lock_for(engine)
        self.retry_seconds = retry_seconds
        self.on_lead, self.on_follow = on_lead, on_follow
        self.name = name
        self.is_leader = False
        self.changed = asyncio.Event()  # set on every change; tests and metrics wait on it
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="leadership")

    async def _run(self) -> None:
        while True:
            if self.is_leader:
                if not await self.lock.still_held():
                    await self._follow()
            else:
                try:
                    got = await self.lock.try_acquire()
                except Exception as exc:
                    log.warning("cannot try for leadership (%s); again in %.0f s", type(exc).__name__,
                                self.retry_seconds)
                    got = False
                if got:
                    await self._lead()
            await asyncio.sleep(self.retry_seconds)

    async def _lead(self) -> None:
        log.info("%s leads: scheduler jobs and the outbox sender run here", self.name or "this instance")
        self.is_leader = True
        self.changed.set()
        if self.on_lead is not None:
            try:
                await self.on_lead()
            except Exception:
                log.exception("starting the leader's work failed; the jobs retry on their ticks")

    async def _follow(self) -> None:
        self.is_leader = False
        self.changed.set()
        try:
            if self.on_follow is not None:
                await self.on_follow()
        finally:
            await self.lock.release()

    async def stop(self) -> None:
        """Stops trying, stops the leader's work and releases the lock for another instance."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.is_leader:
            await self._follow()
            log.info("leadership released")
        else:
            await self.lock.release()
