"""aiosqlite's connection, its statements run on the event loop's own thread.

SQLite is a library, not a server: an indexed statement of this bot takes ~0.01–0.1 ms, and a
commit in WAL mode with ``synchronous=NORMAL`` writes the log without waiting for the disk. aiosqlite
runs each call on a thread of the connection's own, and the trip there and back (waking that thread,
then the event loop) costs more than the statement (~0.065–0.13 ms here, of CPU too); SQLAlchemy's
adapter makes four such calls a statement. Worse, a write transaction spread over several trips
holds SQLite's one writer while the event loop serves everything else in between, so bookings queue.
Here a statement is one call, on the loop's thread: the cursor is opened, executed, read out and
closed, and the rows are kept in memory; a write transaction runs start to end without giving up the
loop. The ``BEGIN`` of a transaction goes with its first statement (one that sends none never takes
the lock), and a commit or rollback with no transaction open does nothing.

A lock another connection holds (another process; this one's writers queue on an asyncio lock,
``storage.db``) is not waited for on the loop: the connections have no busy timeout, so SQLite says
«busy» at once, and the statement, which did nothing, goes to aiosqlite's thread to wait there with
the busy timeout on, in slices: a caller cancelled meanwhile stops it within one, and what it began
is rolled back before the connection can go back to the pool. What the loop does wait for: a write
transaction runs in one piece (the batch jobs write in short ones), and the COMMIT that crosses
1,000 log pages (every hundred bookings or so) runs SQLite's automatic WAL checkpoint, which syncs
to disk (~6 ms here).

The driver is still aiosqlite (its connection, thread and queue, through ``Connection._execute``,
the call aiosqlite itself queues everything with; the version is pinned), the dialect is still
SQLAlchemy's ``sqlite+aiosqlite``; streamed (server-side) results keep its cursors and its thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Iterator
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection, AsyncAdapt_aiosqlite_dbapi
from sqlalchemy.util.concurrency import await_

# What a statement sends back: description, rowcount, lastrowid, rows, in_transaction.
_Outcome = tuple[Any, int, int | None, list[Any], bool]

# How long a statement waits for a lock another connection holds, on aiosqlite's thread only (see
# the module's docstring), with SQLite's busy handler on in slices of _WAIT_SLICE_MS.
LOCK_TIMEOUT_MS = 10_000
_WAIT_SLICE_MS = 100  # how soon a cancelled wait for a lock gives up


def _busy(error: sqlite3.OperationalError) -> bool:
    """SQLite could not take a lock at once (SQLITE_BUSY and its extended codes)."""
    return (getattr(error, "sqlite_errorcode", 0) & 0xFF) == sqlite3.SQLITE_BUSY


def _statement(conn: sqlite3.Connection, begin: str | None, many: bool, operation: str,
               parameters: Any) -> _Outcome:
    """The whole life of one cursor, the transaction's BEGIN ahead of it if it is the first."""
    if begin is not None:
        conn.execute(begin)
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows, conn.in_transaction
    finally:
        cursor.close()


def _end(conn: sqlite3.Connection, commit: bool) -> None:
    if commit:
        conn.commit()
    else:
        conn.rollback()


def _waiting_for_locks(conn: sqlite3.Connection, stop: threading.Event, fn: Any, *args: Any) -> Any:
    """Runs on aiosqlite's thread: ``fn`` with SQLite's busy handler on, then off again. The wait is
    cut in slices, so that ``stop`` (the caller was cancelled) ends it within one; what a stopped
    call began is rolled back here."""
    deadline = time.monotonic() + LOCK_TIMEOUT_MS / 1000
    try:
        while True:
            left = deadline - time.monotonic()
            conn.execute(f"PRAGMA busy_timeout={max(1, min(_WAIT_SLICE_MS, int(left * 1000)))}")
            began = time.monotonic()
            try:
                return fn(conn, *args)
            except sqlite3.OperationalError as error:
                if not _busy(error) or conn.in_transaction or stop.is_set() or time.monotonic() >= deadline:
                    raise
            # A «busy» that came back without the handler's wait would spin; wait out the slice.
            stop.wait(max(0.0, min(_WAIT_SLICE_MS / 1000, left) - (time.monotonic() - began)))
    finally:
        if stop.is_set() and conn.in_transaction:
            conn.rollback()
        conn.execute("PRAGMA busy_timeout=0")


class InlineCursor:
    """The DB-API cursor SQLAlchemy sees: filled by one call, read from memory afterwards."""

    server_side = False
    __slots__ = ("_connection", "_rows", "arraysize", "description", "lastrowid", "rowcount")

    def __init__(self, connection: InlineConnection) -> None:
        self._connection = connection
        self._rows: deque[Any] = deque()
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1

    def execute(self, operation: str, parameters: Any = None) -> None:
        self._take(self._connection.run(False, operation, parameters))

    def executemany(self, operation: str, seq_of_parameters: Any) -> None:
        self._take(self._connection.run(True, operation, seq_of_parameters))

    def _take(self, outcome: _Outcome) -> None:
        self.description, self.rowcount, self.lastrowid, rows, _ = outcome
        self._rows = deque(rows)

    def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    def fetchmany(self, size: int | None = None) -> list[Any]:
        rows = self._rows
        return [rows.popleft() for _ in range(min(size or self.arraysize, len(rows)))]

    def fetchall(self) -> list[Any]:
        rows = list(self._rows)
        self._rows.clear()
        return rows

    def __iter__(self) -> Iterator[Any]:
        while self._rows:
            yield self._rows.popleft()

    def close(self) -> None:
        self._rows.clear()

    async def _async_soft_close(self) -> None:
        """SQLAlchemy's async results call this; the SQLite cursor is closed already."""

    def setinputsizes(self, *inputsizes: Any) -> None:
        pass

    def setoutputsize(self, size: Any, column: Any = None) -> None:
        pass

    def nextset(self) -> None:
        return None

    def __enter__(self) -> InlineCursor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InlineConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("_begin", "_in_transaction")

    def __init__(self, dbapi: InlineDBAPI, connection: Any) -> None:  # an aiosqlite.Connection
        super().__init__(dbapi, connection)
        self._begin: str | None = None
        self._in_transaction = True  # what SQLite said after the last call (see ``_call``)

    def cursor(self, server_side: bool = False) -> Any:
        if server_side:
            # A streamed result runs on aiosqlite's own cursor, which knows nothing of a waiting BEGIN.
            begin, self._begin = self._begin, None
            if begin is not None:
                self._call(sqlite3.Connection.execute, begin)
            return self._ss_cursor_cls(self)
        return InlineCursor(self)

    def begin_with_next_statement(self, sql: str) -> None:
        """Send ``sql`` (a BEGIN) just ahead of the next statement."""
        self._begin = sql

    def run(self, many: bool, operation: str, parameters: Any) -> _Outcome:
        begin, self._begin = self._begin, None
        # An executemany outside a transaction commits row by row: after a «busy» midway some rows
        # stay, so it is not done again.
        outcome: _Outcome = self._call(_statement, begin, many, operation, parameters,
                                       retry=begin is not None or not many)
        self._in_transaction = outcome[4]
        return outcome

    def commit(self) -> None:
        self._begin = None  # a BEGIN still waiting: the transaction never began
        self._end(commit=True)

    def rollback(self) -> None:
        self._begin = None
        self._end(commit=False)

    def _end(self, commit: bool) -> None:
        if not self._in_transaction or not self._connection._connection:
            return
        self._call(_end, commit)
        self._in_transaction = False

    async def execute_on_loop(self, operation: str, parameters: Any) -> list[Any]:
        """One statement's rows, for a caller on the event loop with no greenlet of SQLAlchemy's
        (``storage.direct``). SQLite's own errors are raised as they come."""
        begin, self._begin = self._begin, None
        self._in_transaction = True
        outcome: _Outcome = await self._attempt(_statement, begin, False, operation, parameters, retry=True)
        self._in_transaction = outcome[4]
        return outcome[3]

    async def end_on_loop(self, commit: bool) -> None:
        """``commit()`` or ``rollback()`` for a caller of ``execute_on_loop``."""
        self._begin = None
        if self._in_transaction and self._connection._connection:
            await self._attempt(_end, commit, retry=False)
            self._in_transaction = False

    def _call(self, fn: Any, *args: Any, retry: bool = True) -> Any:
        """``_attempt`` from SQLAlchemy's side: in its greenlet, as its async engine expects of a
        driver (``AsyncConnection.execute`` checks that something is awaited); nothing suspends
        unless a lock must be waited for."""
        self._in_transaction = True
        try:
            return await_(self._attempt(fn, *args, retry=retry))
        except Exception as error:
            self._handle_exception(error)

    async def _attempt(self, fn: Any, *args: Any, retry: bool) -> Any:
        """``fn(sqlite3_connection, *args)``, on this thread; on aiosqlite's if it must wait for a
        lock. After an error the transaction's state is unknown: the caller takes it as open, so
        that the rollback is sent."""
        conn = self._connection._conn
        try:
            return fn(conn, *args)
        except sqlite3.OperationalError as error:
            if not retry or not _busy(error) or conn.in_transaction:
                raise
        # Nothing was done (no transaction is open: the BEGIN IMMEDIATE, or a statement on its own,
        # found the lock taken). Wait for it there, and do it all again.
        stop = threading.Event()
        waiting = asyncio.ensure_future(self._connection._execute(_waiting_for_locks, conn, stop, fn, *args))
        try:
            return await asyncio.shield(waiting)
        except asyncio.CancelledError:
            # The thread goes on with it: were the connection given back now, the pool would hand it
            # out while the thread ran BEGIN IMMEDIATE and the write on it, and SQLite's one writer
            # would stay taken. Stop it (within a slice of the wait), undo what it did, then be cancelled.
            # (A statement on its own, no transaction open, commits by itself: reads only, here.)
            stop.set()
            while not waiting.done():
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait({waiting})
            if not waiting.cancelled():  # the thread is done with the connection
                waiting.exception()  # looked at: the cancellation is what the caller gets
                if conn.in_transaction:
                    conn.rollback()
            # Else the loop is shutting down and cancelled the wait itself: the thread, stopped,
            # rolls back on its own.
            raise


class InlineDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """Given to ``create_async_engine(module=...)``: aiosqlite's module, this file's connections."""

    def __init__(self) -> None:
        super().__init__(aiosqlite, sqlite3)

    def connect(self, *arg: Any, **kw: Any) -> InlineConnection:
        kw["check_same_thread"] = False  # opened on aiosqlite's thread, used on the event loop's too
        pending = aiosqlite.connect(*arg, **kw)
        pending._thread.daemon = True  # as SQLAlchemy's adapter does: never hold up the exit
        connection = await_(pending)
        # No busy timeout: locks are waited for on the thread (``_waiting_for_locks``).
        connection._conn.execute("PRAGMA busy_timeout=0")
        return InlineConnection(self, connection)
