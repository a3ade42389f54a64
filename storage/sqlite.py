"""aiosqlite connections whose statements mostly need no trip to the connection's thread.

aiosqlite runs each call in the connection's own thread, and SQLAlchemy's adapter makes four
calls per statement (make a cursor, execute, fetch the rows, close the cursor) and a rollback
for every session that ends, in a transaction or not. Each call is a trip to that thread and
back (a queue, a thread woken, the event loop woken), and on a busy bot those trips, not
SQLite, were most of the CPU of a statement.

Here only the calls that may wait go to the thread: ``BEGIN IMMEDIATE`` (another process, the
syslog writer, may hold the write lock: SQLite's busy timeout then sleeps), ``COMMIT`` (it may
checkpoint the write-ahead log, which writes the database file and syncs it), rollbacks,
schema changes and any write outside a transaction this connection began with ``BEGIN
IMMEDIATE``. The rest runs where it is awaited, in the event loop's thread, as one call that
executes, fetches the rows and closes the cursor: a ``SELECT`` (in WAL mode a reader never
waits for a writer), and every statement of a write transaction whose lock is already held
(nothing is left to wait for). Such a statement costs what SQLite and ``sqlite3`` cost, a few
tens of microseconds, instead of two thread switches and a turn of the event loop. A commit or
rollback with no transaction to end (``sqlite3`` would do nothing) makes no trip at all.
"""

from __future__ import annotations

import re
import sqlite3
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any

import aiosqlite
from sqlalchemy import event
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine

Description = tuple[tuple[Any, ...], ...] | None
_BEGIN_IMMEDIATE = re.compile(r"\s*BEGIN\s+IMMEDIATE\b", re.IGNORECASE)
# a statement that only reads (WITH ... INSERT / UPDATE / DELETE writes, and waits for the lock)
_READ = re.compile(r"\s*(SELECT|WITH)\b", re.IGNORECASE)
_WRITE = re.compile(r"\b(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
_Done = tuple[Description, list[Any], int, int | None]


def _execute(conn: sqlite3.Connection, sql: str, parameters: Any) -> _Done:
    """In the connection's thread: the statement, its rows and its counts."""
    cursor = conn.cursor()
    try:
        cursor.execute(sql, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description is not None else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _executemany(conn: sqlite3.Connection, sql: str, parameters: Iterable[Any]) -> _Done:
    cursor = conn.cursor()
    try:
        cursor.executemany(sql, parameters)
        return cursor.description, [], cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class Cursor:
    """The cursor SQLAlchemy's adapter uses: the rows came back with the statement."""

    arraysize = 1

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._rows: deque[Any] = deque()
        self.description: Description = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    def _done(self, done: _Done) -> Cursor:
        self.description, rows, self.rowcount, self.lastrowid = done
        self._rows = deque(rows)
        return self

    async def execute(self, sql: str, parameters: Any = None) -> Cursor:
        conn = self._connection
        params = [] if parameters is None else parameters
        run = partial(_execute, conn._conn, sql, params)
        if conn.at_once(sql):
            return self._done(run())
        done = self._done(await conn.trip(run))
        if _BEGIN_IMMEDIATE.match(sql):
            conn.holding = True
        return done

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> Cursor:
        conn = self._connection
        run = partial(_executemany, conn._conn, sql, parameters)
        return self._done(run() if conn.at_once(sql) else await conn.trip(run))

    async def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        count = min(self.arraysize if size is None else size, len(self._rows))
        return [self._rows.popleft() for _ in range(count)]

    async def fetchall(self) -> Sequence[Any]:
        rows = list(self._rows)
        self._rows.clear()
        return rows

    async def close(self) -> None:
        self._rows.clear()


class Connection(aiosqlite.Connection):
    """An aiosqlite connection (its thread, its queue) whose cursors run what cannot wait in
    the caller's thread, and the rest in one trip to the connection's thread."""

    # a transaction begun with BEGIN IMMEDIATE is open: this connection holds the write lock
    holding = False

    def cursor(self) -> Cursor:  # type: ignore[override]  # no trip to make a cursor
        return Cursor(self)

    def at_once(self, sql: str) -> bool:
        """Whether ``sql`` can run in the caller's thread: it cannot wait for a lock (a read,
        or any statement while this connection holds the write lock)."""
        if self.holding and self._conn.in_transaction:
            return True
        return _READ.match(sql) is not None and not _WRITE.search(sql)

    async def trip(self, function: Callable[[], _Done]) -> _Done:
        """``function`` run in the connection's thread (aiosqlite's own queue)."""
        done: _Done = await self._execute(function)  # type: ignore[no-untyped-call]
        return done

    async def commit(self) -> None:
        try:
            if self._conn.in_transaction:
                await super().commit()
        finally:
            self.holding = False

    async def rollback(self) -> None:
        try:
            if self._conn.in_transaction:
                await super().rollback()
        finally:
            self.holding = False


def connect(database: str | bytes, **kwargs: Any) -> Connection:
    """As ``aiosqlite.connect``, with the same ``sqlite3.connect`` arguments."""
    location = database.decode("utf-8") if isinstance(database, bytes) else str(database)

    def connector() -> sqlite3.Connection:
        made: sqlite3.Connection = sqlite3.connect(location, **kwargs)
        return made

    connection = Connection(connector, 64)
    connection._thread.daemon = True  # as SQLAlchemy sets aiosqlite's own
    return connection


def use_one_trip(engine: AsyncEngine) -> None:
    """The engine's new connections are ``Connection``s, made from the arguments SQLAlchemy
    would give aiosqlite (the URL's and ``connect_args``)."""

    def make(dialect: Dialect, _record: Any, cargs: Any, cparams: Any) -> Any:
        assert dialect.loaded_dbapi is not None
        return dialect.loaded_dbapi.connect(*cargs, async_creator_fn=connect, **cparams)

    event.listen(engine.sync_engine, "do_connect", make)
