"""Engine and units of work. Every service call runs in one ``write()`` or ``read()``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, nullcontext
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from storage.uow import UnitOfWork

# How long a SQLite writer waits for another process's writer before giving up, in milliseconds.
BUSY_TIMEOUT_MS = 10_000
# Connections the bot's own work may hold beside the updates it handles: the outbox sender, the
# scheduler's jobs, the web server's ESIA callback.
BACKGROUND_CONNECTIONS = 8
_BEGIN = "sqlite_begin"  # execution option: how a SQLite transaction begins


def pool_size_for(concurrent_updates: int) -> int:
    """A connection for each update handled at once and for the background work."""
    return concurrent_updates + BACKGROUND_CONNECTIONS


def _prepare_sqlite(engine: AsyncEngine) -> None:
    """SQLAlchemy's recipe for SQLite transactions (the SQLite dialect's docs, «Serializable
    isolation / Savepoints / Transactional DDL»): pysqlite's own BEGIN is off, ours is sent.

    Writers begin with BEGIN IMMEDIATE, so two of them can never both read a free slot and both
    book it: SQLite serializes them. Readers begin deferred and, with WAL, never wait for writers.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql(f"BEGIN {conn.get_execution_options().get(_BEGIN, 'IMMEDIATE')}")


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    # Errors must not carry statement parameters into logs: they hold names, SNILS and policies.
    kwargs.setdefault("hide_parameters", True)
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _prepare_sqlite(engine)
    return engine


class Database:
    def __init__(self, url: str, *, on_outbox: Callable[[], None] | None = None, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self._writes = async_sessionmaker(self.engine, expire_on_commit=False)
        self._reads = async_sessionmaker(self.engine.execution_options(**{_BEGIN: "DEFERRED"}),
                                         expire_on_commit=False)
        self.on_outbox = on_outbox  # told after a commit that queued messages: the sender wakes
        # SQLite has one writer at a time: this process's writers queue for it here rather than
        # in SQLite's busy handler, which polls.
        self._write_lock = asyncio.Lock() if self.is_sqlite else None

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def write(self) -> AsyncIterator[UnitOfWork]:
        """A transaction that may change data; the service must ``commit()`` or it rolls back."""
        async with self._write_lock or nullcontext(), self._writes() as session:
            uow = UnitOfWork(session)
            yield uow
        if uow.committed and uow.outbox.written and self.on_outbox is not None:
            self.on_outbox()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[UnitOfWork]:
        # Closing ends the transaction and detaches what was read without expiring it, so services
        # can return the rows they loaded.
        async with self._reads() as session:
            yield UnitOfWork(session)

    async def dispose(self) -> None:
        await self.engine.dispose()
