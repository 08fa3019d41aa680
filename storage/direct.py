"""The hottest statements, run straight on SQLite's connection.

A statement executed through the session costs SQLAlchemy's work around it: the ORM's execution
context, the engine's, a greenlet, the result's objects (~0.2 ms of CPU here, for an indexed UPDATE
that SQLite does in ~0.02 ms); a read's session, connection and transaction cost ~0.5 ms around a
0.05 ms SELECT. A ``DirectStatement`` is still a Core construct, compiled by SQLAlchemy's own SQLite
compiler, with its parameters and results converted by the columns' own types (``UTCDateTime``,
the enums, JSON): only the execution is ours. In a unit of work it runs on the session's connection
and in its transaction, so the commit, the rollback, the write lock and the listeners are the unit
of work's as for any statement; ``fetch`` runs a read on a pooled connection with no session, and a
``DirectTransaction`` a write made of direct statements only (``Database.direct_write``). Other
databases run them through a session, unchanged. They pass neither SQLAlchemy's engine events nor
its SQL echo.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import exc
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.pool import PoolProxiedConnection, QueuePool
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.selectable import Select
from sqlalchemy.util.concurrency import greenlet_spawn

from storage.sqlite_driver import InlineConnection, InlineDBAPI

if TYPE_CHECKING:
    from storage.db import Database

Statement = UpdateBase | Select[Any]
_DRIVER = "direct.driver"  # in session.info: (the transaction, its SQLite connection or None, the dialect)


class _Compiled:
    """SQL and converters for one dialect: built once, on the first run."""

    def __init__(self, statement: Statement, keys: Sequence[str] | None, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys) if keys is not None else None)
        if compiled.insert_prefetch or compiled.update_prefetch:
            # A Python-side column default: the engine computes it per execution; here it would be NULL.
            raise ValueError("a statement with Python-side column defaults is not supported here")
        self.sql = str(compiled)
        binds: Mapping[str, BindParameter[Any]] = compiled.binds
        # Per positional parameter: (the caller's key, its converter) or (None, the fixed value,
        # converted once): the statement's own literals, such as a status it compares with.
        self.parameters: list[tuple[str | None, Any]] = []
        for name in compiled.positiontup or ():
            bind = binds[name]
            convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if bind.callable is not None:
                raise ValueError(f"{bind.key}: a bind parameter with a callable value is not supported here")
            if bind.required:
                self.parameters.append((bind.key, convert))
            else:
                value = bind.effective_value
                self.parameters.append((None, convert(value) if convert is not None else value))
        self.results = [column.type.dialect_impl(dialect).result_processor(dialect, None)
                        for column in statement.exported_columns]

    def bound(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        out = []
        for key, convert in self.parameters:
            if key is None:
                out.append(convert)
                continue
            value = values[key]
            out.append(convert(value) if convert is not None else value)
        return tuple(out)

    def row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(value if convert is None else convert(value)
                     for convert, value in zip(self.results, raw, strict=True))


def _as_sqlalchemys(sql: str, error: Exception, dialect: Dialect) -> Exception:
    """``error`` as the engine would raise it: sqlalchemy.exc.IntegrityError and the like (a value a
    column's type refuses: StatementError), with no parameters."""
    return exc.DBAPIError.instance(sql, None, error, sqlite3.Error, hide_parameters=True, dialect=dialect)


class DirectTransaction:
    """A write transaction on a pooled SQLite connection, with no session: its statements are all
    direct ones. A session, its connection, its transaction and its commit cost ~0.2 ms of CPU around
    a booking's three statements; this costs none of it. BEGIN IMMEDIATE goes with the first statement.
    ``Database.direct_write`` holds the write lock around it, ends it and gives the connection back."""

    def __init__(self, driver: InlineConnection, dialect: Dialect) -> None:
        self.driver = driver
        self.dialect = dialect
        self.info: dict[str, Any] = {}  # as a session's: ``storage.changes`` notes what changed here
        driver.begin_with_next_statement("BEGIN IMMEDIATE")

    async def commit(self) -> None:
        await self._end(commit=True)

    async def rollback(self) -> None:
        """Nothing to do once committed, or if no statement ran."""
        await self._end(commit=False)

    async def _end(self, commit: bool) -> None:
        try:
            await self.driver.end_on_loop(commit)
        except Exception as error:
            raise _as_sqlalchemys("COMMIT" if commit else "ROLLBACK", error, self.dialect) from error


# Where a direct statement runs: a session's transaction, or a transaction of its own.
Target = AsyncSession | DirectTransaction


async def _driver(target: Target) -> tuple[InlineConnection | None, Dialect]:
    """The SQLite connection of the transaction (a session's is begun here if it was not), or None
    on another database. Asking the session for its connection costs as much as a statement does
    directly, so the answer is kept for as long as the transaction lasts."""
    if isinstance(target, DirectTransaction):
        return target.driver, target.dialect
    session = target
    transaction = session.get_transaction()
    kept = session.info.get(_DRIVER)
    if kept is not None and transaction is not None and kept[0] is transaction:
        return kept[1], kept[2]
    connection = await session.connection()
    driver = connection.sync_connection.connection.dbapi_connection  # type: ignore[union-attr]
    inline = driver if isinstance(driver, InlineConnection) else None
    session.info[_DRIVER] = (session.get_transaction(), inline, connection.dialect)
    return inline, connection.dialect


class DirectStatement:
    """``statement`` (a SELECT, or an INSERT, UPDATE or DELETE with or without RETURNING), run on
    SQLite without SQLAlchemy's execution layer. ``keys``: the columns an INSERT's values are given for."""

    def __init__(self, statement: Statement, keys: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.keys = tuple(keys) if keys is not None else None
        self._compiled: _Compiled | None = None

    async def rows(self, target: Target, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """The rows it returns (none without RETURNING), converted as SQLAlchemy would, in the
        target's transaction."""
        driver, dialect = await _driver(target)
        if driver is None:
            assert isinstance(target, AsyncSession)  # a DirectTransaction always has its connection
            result = await target.execute(self.statement, dict(values))
            return [tuple(row) for row in result.all()] if self.statement.exported_columns else []
        return await self.run(driver, dialect, values)

    async def run(self, driver: InlineConnection, dialect: Dialect, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = _Compiled(self.statement, self.keys, dialect)
        try:
            rows = await driver.execute_on_loop(compiled.sql, compiled.bound(values))
        except Exception as error:
            raise _as_sqlalchemys(compiled.sql, error, dialect) from error
        return [compiled.row(row) for row in rows]

    async def execute_each(self, target: Target, many: Sequence[Mapping[str, Any]]) -> None:
        """Run it for each of ``many`` (no rows back): on SQLite a statement each, elsewhere one
        executemany (a round trip for all)."""
        if not many:
            return
        driver, dialect = await _driver(target)
        if driver is None:
            assert isinstance(target, AsyncSession)
            await target.execute(self.statement, [dict(values) for values in many])
            return
        for values in many:
            await self.run(driver, dialect, values)

    async def first(self, target: Target, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
        rows = await self.rows(target, values)
        return rows[0] if rows else None


async def fetch(db: Database, statement: DirectStatement, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """A read of one statement outside any unit of work: on SQLite straight on a pooled connection,
    for about a quarter of what a session, its connection and its transaction cost around it. Each
    statement is its own snapshot, as in ``Database.read()``, which other databases use."""
    engine = db.engine
    if isinstance(engine.dialect.loaded_dbapi, InlineDBAPI):
        raw = await engine.raw_connection()
        try:
            return await statement.run(cast(InlineConnection, raw.dbapi_connection), engine.dialect, values)
        finally:
            await give_back(engine, raw)
    async with db.read() as uow:
        return [tuple(row) for row in (await uow.session.execute(statement.statement, dict(values))).all()]


async def give_back(engine: AsyncEngine, raw: PoolProxiedConnection,
                    transaction: DirectTransaction | None = None) -> None:
    """Back to the pool a connection taken with ``engine.raw_connection()``, with nothing left open: the
    pool does not roll back (``pool_reset_on_return`` is off). One whose rollback failed is in a state
    nobody knows, maybe holding SQLite's writer: it is closed, never handed out again. Closing awaits
    aiosqlite, which SQLAlchemy does from its greenlet: the pool closes a connection beyond its size
    instead of keeping it, and so does an invalidation."""
    if transaction is not None:
        try:
            await transaction.rollback()  # nothing to do once committed
        except BaseException:
            await greenlet_spawn(raw.invalidate)
            raise
    pool = engine.pool
    if isinstance(pool, QueuePool) and pool.checkedin() < pool.size():
        raw.close()  # kept by the pool: nothing to await
    else:
        await greenlet_spawn(raw.close)
