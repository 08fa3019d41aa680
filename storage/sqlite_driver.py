"""aiosqlite, one trip to its thread per statement.

aiosqlite runs each SQLite call on a thread of the connection's own, and SQLAlchemy's adapter makes
four such calls a statement (open a cursor, execute, fetch, close) and one more for a rollback after
every read, though a read in autocommit mode has nothing to roll back. Each trip wakes that thread
and then the event loop: on this kind of machine that costs more than the statement itself
(a trip ~0.13 ms; an indexed SQLite read ~0.01 ms). Here a statement is one trip: the cursor is
opened, executed, read out and closed on the driver's thread, and the rows come back with it.
The ``BEGIN`` of a transaction travels with its first statement, a commit or rollback with no
transaction open stays home, and a write whose outcome nobody reads (the audit rows) can be held
back to travel with the next statement or the ``COMMIT`` (``RIDES_WITH_COMMIT``).

Only the adapter changes: the driver is still aiosqlite (its connection, thread and queue, through
``Connection._execute``, the call aiosqlite itself queues everything with; the version is pinned),
the dialect is still SQLAlchemy's ``sqlite+aiosqlite``; streamed (server-side) results keep its cursors.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Iterator
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection, AsyncAdapt_aiosqlite_dbapi
from sqlalchemy.util.concurrency import await_

# What the driver's thread sends back: description, rowcount, lastrowid, rows, in_transaction.
_Outcome = tuple[Any, int, int | None, list[Any], bool]
# Writes held back for the next trip: (operation, the parameters of each row).
_Held = list[tuple[str, Any]]

# An execution option: the statement (a write whose rowcount and ids nobody reads) is sent
# with the transaction's next trip, at the latest its COMMIT, instead of a trip of its own. An
# error in it is raised by that statement or by the commit, and the transaction is rolled back.
RIDES_WITH_COMMIT = "sqlite_rides_with_commit"


def _send_held(conn: sqlite3.Connection, begin: str | None, held: _Held) -> None:
    if begin is not None:
        conn.execute(begin)
    for operation, rows in held:
        conn.executemany(operation, rows)


def _statement(conn: sqlite3.Connection, begin: str | None, held: _Held, many: bool, operation: str,
               parameters: Any) -> _Outcome:
    """Runs on aiosqlite's thread: the whole life of one cursor."""
    _send_held(conn, begin, held)
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


def _commit_with(conn: sqlite3.Connection, begin: str | None, held: _Held) -> None:
    try:
        _send_held(conn, begin, held)
    except Exception:
        if conn.in_transaction:
            conn.rollback()  # nothing of the transaction stays; the error tells why
        raise
    conn.commit()


class OneTripCursor:
    """The DB-API cursor SQLAlchemy sees: filled by one trip, read from memory afterwards."""

    server_side = False
    __slots__ = ("_connection", "_rows", "arraysize", "description", "lastrowid", "rides_with_commit", "rowcount")

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self._rows: deque[Any] = deque()
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1
        self.rides_with_commit = False  # set for one statement by storage.db (``RIDES_WITH_COMMIT``)

    def execute(self, operation: str, parameters: Any = None) -> None:
        if self.rides_with_commit:
            self._hold(operation, [() if parameters is None else parameters])
            return
        self._take(self._connection.run(False, operation, parameters))

    def executemany(self, operation: str, seq_of_parameters: Any) -> None:
        if self.rides_with_commit:
            self._hold(operation, list(seq_of_parameters))
            return
        self._take(self._connection.run(True, operation, seq_of_parameters))

    def _hold(self, operation: str, rows: list[Any]) -> None:
        self._connection.hold(operation, rows)
        self._take((None, len(rows), None, [], True))

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
        """SQLAlchemy's async results call this; the cursor on the thread is closed already."""

    def setinputsizes(self, *inputsizes: Any) -> None:
        pass

    def setoutputsize(self, size: Any, column: Any = None) -> None:
        pass

    def nextset(self) -> None:
        return None

    def __enter__(self) -> OneTripCursor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("_begin", "_held", "_in_transaction")

    def __init__(self, dbapi: Any, connection: Any) -> None:  # an aiosqlite.Connection
        super().__init__(dbapi, connection)
        self._begin: str | None = None
        self._held: _Held = []
        self._in_transaction = True  # what SQLite said after the last trip (see ``_trip``)

    def cursor(self, server_side: bool = False) -> Any:
        if server_side:
            # A streamed result runs on aiosqlite's own cursor, which knows nothing of a waiting BEGIN.
            begin, held = self._waiting()
            if begin is not None or held:
                self._trip(_send_held, begin, held)
            return self._ss_cursor_cls(self)
        return OneTripCursor(self)

    def begin_with_next_statement(self, sql: str) -> None:
        """Send ``sql`` (a BEGIN) ahead of the next statement, in the same trip."""
        self._begin = sql

    def hold(self, operation: str, rows: list[Any]) -> None:
        """Send ``executemany(operation, rows)`` with the next trip of this transaction."""
        self._held.append((operation, rows))

    def _waiting(self) -> tuple[str | None, _Held]:
        """What goes ahead of the next trip, taken off: the BEGIN, the writes held back."""
        begin, held = self._begin, self._held
        self._begin, self._held = None, []
        return begin, held

    def run(self, many: bool, operation: str, parameters: Any) -> _Outcome:
        begin, held = self._waiting()
        outcome: _Outcome = self._trip(_statement, begin, held, many, operation, parameters)
        self._in_transaction = outcome[4]
        return outcome

    def commit(self) -> None:
        begin, held = self._waiting()
        if held:
            self._trip(_commit_with, begin, held)
            self._in_transaction = False
        else:
            self._end(commit=True)  # a BEGIN still waiting: the transaction never began

    def rollback(self) -> None:
        self._waiting()  # a BEGIN and writes never sent: nothing to undo for them
        self._end(commit=False)

    def _end(self, commit: bool) -> None:
        if not self._in_transaction or not self._connection._connection:
            return
        self._trip(_end, commit)
        self._in_transaction = False

    def _trip(self, fn: Any, *args: Any) -> Any:
        """``fn(sqlite3_connection, *args)`` on aiosqlite's thread. After an error the transaction's
        state is unknown: taken as open, so that the rollback does go to the thread."""
        self._in_transaction = True
        try:
            return await_(self._connection._execute(fn, self._connection._conn, *args))
        except Exception as error:
            self._handle_exception(error)


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """Given to ``create_async_engine(module=...)``: aiosqlite's module, this file's connections."""

    def __init__(self) -> None:
        super().__init__(aiosqlite, sqlite3)

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        connection = aiosqlite.connect(*arg, **kw)
        connection._thread.daemon = True  # as SQLAlchemy's adapter does: never hold up the exit
        return OneTripConnection(self, await_(connection))
