"""Engine and transactions. Every service call runs in one ``write()``, ``direct_write()`` or ``read()`` (a
refused booking explains itself from a ``read()`` after its ``direct_write()``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, nullcontext
from typing import Any, cast

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from storage.changes import Changes, SlotChange, WriteSession, changes_of
from storage.direct import DirectTransaction, give_back
from storage.sqlite_driver import InlineConnection, InlineDBAPI
from storage.uow import DirectUnitOfWork, UnitOfWork

# What a committed transaction did to slots: the changes, or None when it changed them in bulk.
SlotListener = Callable[[list[SlotChange] | None], None]
# The accounts whose card files (their people, a status, a removal) a committed transaction changed.
CardFileListener = Callable[[set[int]], None]


_BEGIN_OPTION = "sqlite_begin"

# Connections the bot's own work may hold beside the updates it handles: the outbox sender, the
# scheduler's jobs, the web server's ESIA callback.
BACKGROUND_CONNECTIONS = 8


def pool_size_for(concurrent_updates: int) -> int:
    """A connection for each update handled at once and for the background work. A connection
    beyond the pool is closed when given back, and opening one costs a thread and the PRAGMAs on
    SQLite (a TCP connection and a log-in on PostgreSQL), at the busiest moment."""
    return concurrent_updates + BACKGROUND_CONNECTIONS


def _prepare_sqlite(engine: AsyncEngine) -> None:
    """Take BEGIN over from pysqlite (see SQLAlchemy's SQLite dialect docs).

    pysqlite's own BEGIN is deferred: two transactions may both read a free slot and both
    write it. Write transactions start with BEGIN IMMEDIATE, so SQLite serializes them; reads
    stay deferred and, with WAL, never wait for writers.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(_BEGIN_OPTION, "IMMEDIATE")
        if mode == "AUTOCOMMIT":
            return  # a read: each SELECT is its own snapshot, no BEGIN/ROLLBACK round trips
        driver = conn.connection.dbapi_connection
        if isinstance(driver, InlineConnection):
            driver.begin_with_next_statement(f"BEGIN {mode}")
        else:
            conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    # Errors must not carry statement parameters into logs: they hold names, SNILS and policies.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite") and ":memory:" not in url:
        kwargs.setdefault("pool_size", 20)  # the bot passes pool_size_for(its concurrent updates)
        # The session has already ended its transaction when a connection goes back (reads roll
        # back, ``write()`` commits or rolls back; ``storage.direct.give_back`` for the connections
        # taken without a session), so the pool's own rollback would be a second one, SQLAlchemy's
        # work for nothing on every use.
        kwargs.setdefault("pool_reset_on_return", None)
        kwargs.setdefault("pool_use_lifo", True)
    if url.startswith("sqlite+aiosqlite"):
        kwargs.setdefault("module", InlineDBAPI())
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _prepare_sqlite(engine)
    return engine


class Database:
    def __init__(self, url: str, *, on_outbox: Callable[[], None] | None = None, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self._writes = async_sessionmaker(self.engine, expire_on_commit=False, sync_session_class=WriteSession)
        self._reads = async_sessionmaker(
            self.engine.execution_options(**{_BEGIN_OPTION: "AUTOCOMMIT"}), expire_on_commit=False
        )
        self.on_outbox = on_outbox
        self._slot_listeners: list[SlotListener] = []
        self._card_file_listeners: list[CardFileListener] = []
        # SQLite has one writer at a time: this process's writers queue for it on an asyncio lock;
        # another process's writer makes BEGIN IMMEDIATE wait on aiosqlite's thread (storage.sqlite_driver).
        self._write_lock: asyncio.Lock | None = asyncio.Lock() if self.is_sqlite else None

    def listen_slots(self, listener: SlotListener) -> None:
        """Told after each commit that changed slots (in-memory views of free time keep up with it)."""
        self._slot_listeners.append(listener)

    def listen_card_files(self, listener: CardFileListener) -> None:
        """Told after each commit that changed people of card files (cached card files forget them)."""
        self._card_file_listeners.append(listener)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def write(self) -> AsyncIterator[UnitOfWork]:
        """A transaction that may change data; the service must ``commit()`` or it rolls back."""
        async with self._session(self._writes) as session:
            uow = UnitOfWork(session)
            # SQLite's one writer is let go as soon as the transaction is over.
            async with self._write_lock or nullcontext():
                try:
                    yield uow
                except BaseException:
                    await session.rollback()
                    raise
                if session.in_transaction():
                    await session.rollback()
            if uow.committed:
                self._tell_listeners(changes_of(session), outbox_written=uow.outbox.written > 0)

    @asynccontextmanager
    async def direct_write(self) -> AsyncIterator[DirectUnitOfWork]:
        """A write whose statements are all direct ones (``storage.direct``): the booking. On SQLite it
        runs on a pooled connection with no session (``DirectTransaction``), under the same write lock
        as ``write()``; elsewhere in ``write()``'s session. The service must ``commit()`` or it rolls back."""
        if not isinstance(self.engine.dialect.loaded_dbapi, InlineDBAPI):
            async with self.write() as uow:
                in_session = DirectUnitOfWork(uow.session)
                yield in_session
                uow.committed = in_session.committed  # the listeners hear of it as of any write
            return
        unit: DirectUnitOfWork | None = None
        try:
            async with self._write_lock or nullcontext():
                raw = await self.engine.raw_connection()
                transaction = DirectTransaction(cast(InlineConnection, raw.dbapi_connection), self.engine.dialect)
                unit = DirectUnitOfWork(transaction)
                try:
                    yield unit
                finally:
                    await give_back(self.engine, raw, transaction)
        finally:
            # Committed is committed, whatever giving the connection back did after it.
            if unit is not None and unit.committed:
                self._tell_listeners(changes_of(transaction), outbox_written=False)

    def _tell_listeners(self, changes: Changes, *, outbox_written: bool) -> None:
        if outbox_written and self.on_outbox is not None:
            self.on_outbox()
        if changes.slots or changes.slots_in_bulk:
            for on_slots in self._slot_listeners:
                on_slots(None if changes.slots_in_bulk else changes.slots)
        if changes.card_files:
            for on_card_files in self._card_file_listeners:
                on_card_files(changes.card_files)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[UnitOfWork]:
        # Closing (not rolling back) ends the transaction and detaches what was read without
        # expiring it, so services can return the rows they loaded.
        async with self._session(self._reads) as session:
            yield UnitOfWork(session)

    @asynccontextmanager
    async def _session(self, sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
        if not self.is_sqlite:
            # SQLAlchemy closes the session on a task of its own, which a cancellation of this one
            # cannot cut short while it gives the connection back.
            async with sessions() as session:
                yield session
            return
        # On SQLite a close runs on this thread (storage.sqlite_driver): closed right here,
        # the connection is back in the pool at once, and the next update takes it again (the pool
        # is last in, first out) with SQLite's caches of it warm: its pages and prepared statements.
        session = sessions()
        try:
            yield session
        finally:
            await session.close()

    async def dispose(self) -> None:
        await self.engine.dispose()


