"""aiosqlite connections whose statements mostly need no trip to the connection's thread.

aiosqlite runs each call in the connection's own thread, and SQLAlchemy's adapter makes four
calls per statement (make a cursor, execute, fetch the rows, close the cursor) and a rollback
for every session that ends, in a transaction or not. Each call is a trip to that thread and
back (a queue, a thread woken, the event loop woken), and on a busy bot those trips, not
SQLite, were most of the CPU of a statement.

In WAL mode, only what may wait goes to the thread. Outside the thread a connection's busy
timeout is 0: a statement run where it is awaited never sleeps on a lock, and one that finds
a lock taken (``SQLITE_BUSY``: another connection, such as the syslog receiver's, writes) runs
again in the thread, with the busy timeout, where waiting is harmless. Run where they are
awaited: ``BEGIN IMMEDIATE`` (almost always free: this process's writers queue on a lock
before it), a ``SELECT`` (in WAL mode a reader does not wait for a writer), every statement
of a write transaction whose lock is held, and ``COMMIT`` (with ``synchronous=NORMAL`` it
neither waits nor syncs; it could only checkpoint the write-ahead log, so connections do not
checkpoint by themselves: every ``CHECKPOINT_EVERY`` commits of the engine, one checkpoints in
its thread). In the thread: rollbacks, schema changes, pragmas, and writes outside a
transaction begun with ``BEGIN IMMEDIATE``. Such a statement costs what SQLite and ``sqlite3``
cost, a few tens of microseconds, instead of two thread switches and a turn of the event loop.
The price: a statement that scans much holds the loop for as long as it takes, as any CPU work
in the loop does; those that scan a table growing with time (the fleet watch's aggregates)
are marked with ``in_thread`` and run in the thread. Not in WAL mode, every call goes to the
thread. A commit or rollback with no transaction to end (``sqlite3`` would do nothing) costs
nothing.
"""

from __future__ import annotations

import itertools
import logging
import re
import sqlite3
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from typing import Any, TypeVar

import aiosqlite
from sqlalchemy import Select, event
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine

Description = tuple[tuple[Any, ...], ...] | None
_BEGIN_IMMEDIATE = re.compile(r"\s*BEGIN\s+IMMEDIATE\b", re.IGNORECASE)
# a statement that only reads (WITH ... INSERT / UPDATE / DELETE writes, and waits for the lock)
_READ = re.compile(r"\s*(SELECT|WITH)\b", re.IGNORECASE)
_WRITE = re.compile(r"\b(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
_Done = tuple[Description, list[Any], int, int | None]
T = TypeVar("T")
SelectT = TypeVar("SelectT", bound=Select[*tuple[Any, ...]])
# commits between two checkpoints of the write-ahead log (SQLite's own default is a checkpoint
# once the log holds 1,000 pages; a unit of work writes a few)
CHECKPOINT_EVERY = 200
_BUSY = 5  # SQLITE_BUSY: another connection holds the lock

log = logging.getLogger(__name__)
# a comment in a statement that scans much: it runs in the connection's thread
IN_THREAD = "/* ddi-bot: in its thread */"


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
        done = conn.now(run) if conn.at_once(sql) else None
        self._done(done if done is not None else await conn.trip(run))
        if _BEGIN_IMMEDIATE.match(sql):
            conn.holding = True
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> Cursor:
        conn = self._connection
        rows = list(parameters)  # it may run twice
        run = partial(_executemany, conn._conn, sql, rows)
        done = conn.now(run) if conn.at_once(sql) else None
        return self._done(done if done is not None else await conn.trip(run))

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


def in_thread(statement: SelectT) -> SelectT:
    """``statement`` run in the connection's thread on SQLite (it scans much: the event loop
    goes on meanwhile); unchanged elsewhere."""
    return statement.prefix_with(IN_THREAD, dialect="sqlite")


def _patiently(raw: sqlite3.Connection, busy_ms: int, function: Callable[[], T]) -> T:
    """In the connection's thread: ``function`` with the busy timeout (a wait for a lock is
    harmless there), which is 0 again afterwards."""
    _execute(raw, f"PRAGMA busy_timeout = {int(busy_ms)}", ())
    try:
        return function()
    finally:
        _execute(raw, "PRAGMA busy_timeout = 0", ())


class Connection(aiosqlite.Connection):
    """An aiosqlite connection (its thread, its queue) whose cursors run what cannot wait in
    the caller's thread, and the rest in one trip to the connection's thread."""

    # a transaction begun with BEGIN IMMEDIATE is open: this connection holds the write lock
    holding = False
    wal = False  # in WAL mode, with a busy timeout of 0 outside the thread (see ``configure``)
    busy_ms = 0  # how long SQLite waits for a lock in the connection's thread
    commits: Iterator[int] | None = None  # numbers the commits of the engine's connections

    def cursor(self) -> Cursor:  # type: ignore[override]  # no trip to make a cursor
        return Cursor(self)

    def at_once(self, sql: str) -> bool:
        """Whether to try ``sql`` in the caller's thread: it need not wait for a lock (a read,
        ``BEGIN IMMEDIATE``, or any statement while this connection holds the write lock)."""
        if not self.wal or IN_THREAD in sql:
            return False
        if not self._conn.in_transaction:
            self.holding = False  # however it ended
        if self.holding or _BEGIN_IMMEDIATE.match(sql):
            return True
        return _READ.match(sql) is not None and not _WRITE.search(sql)

    def now(self, run: Callable[[], _Done]) -> _Done | None:
        """``run`` here, with no wait for a lock (the busy timeout is 0 outside the thread);
        None if it found one taken (SQLite undid the statement: it can run again)."""
        try:
            return run()
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != _BUSY:
                raise
            return None

    async def trip(self, function: Callable[[], T]) -> T:
        """``function`` run in the connection's thread (aiosqlite's own queue), where it may
        wait for a lock as long as the busy timeout says."""
        if self.wal:
            function = partial(_patiently, self._conn, self.busy_ms, function)
        done: T = await self._execute(function)  # type: ignore[no-untyped-call]
        return done

    async def commit(self) -> None:
        # (``holding`` is cleared by ``at_once`` once the transaction is over, however it ended)
        if not self._conn.in_transaction:
            return
        if not self.wal:
            await super().commit()
            return
        self._conn.commit()  # WAL, synchronous=NORMAL, no checkpoint: nothing to wait for
        if self.commits is not None and next(self.commits) % CHECKPOINT_EVERY == 0:
            await self._checkpoint()

    async def _checkpoint(self) -> None:
        """Copy the write-ahead log into the database, in the connection's thread; what a
        reader still uses stays for the next one (PASSIVE never waits). A failure only
        leaves the log longer: it is logged, and the commit stands."""
        try:
            await self.trip(partial(_execute, self._conn, "PRAGMA wal_checkpoint(PASSIVE)", ()))
        except sqlite3.Error as exc:
            log.warning("SQLite: checkpoint of the write-ahead log failed: %s", exc)

    async def rollback(self) -> None:
        if self._conn.in_transaction:
            await super().rollback()


def connect(database: str | bytes, **kwargs: Any) -> Connection:
    """As ``aiosqlite.connect``, with the same ``sqlite3.connect`` arguments."""
    location = database.decode("utf-8") if isinstance(database, bytes) else str(database)

    # used from the loop's thread and its own, one call at a time
    options = {**kwargs, "check_same_thread": False}

    def connector() -> sqlite3.Connection:
        made: sqlite3.Connection = sqlite3.connect(location, **options)
        return made

    connection = Connection(connector, 64)
    connection._thread.daemon = True  # as SQLAlchemy sets aiosqlite's own
    return connection


def configure(dbapi_connection: Any, commits: Iterator[int]) -> None:
    """A new connection: foreign keys, WAL, ``synchronous=NORMAL`` (with WAL it still survives
    the process being killed; only a power cut can lose the last transactions), no checkpoint
    on commit (``Connection.commit`` does the engine's), and in WAL mode a busy timeout of 0
    outside the connection's thread (``Connection.trip`` gives it back there)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    (mode,) = cursor.fetchone()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout")
    (busy_ms,) = cursor.fetchone()
    wal = str(mode).lower() == "wal"
    connection = dbapi_connection.driver_connection
    ours = isinstance(connection, Connection)
    if wal and ours:
        cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.execute("PRAGMA busy_timeout=0")
    cursor.close()
    if ours:
        connection.wal, connection.busy_ms, connection.commits = wal, int(busy_ms), commits


def use_connections(engine: AsyncEngine) -> None:
    """The engine's new connections are ``Connection``s, made from the arguments SQLAlchemy
    would give aiosqlite (the URL's and ``connect_args``), and ``configure``d."""

    def make(dialect: Dialect, _record: Any, cargs: Any, cparams: Any) -> Any:
        assert dialect.loaded_dbapi is not None
        return dialect.loaded_dbapi.connect(*cargs, async_creator_fn=connect, **cparams)

    event.listen(engine.sync_engine, "do_connect", make)
    commits = itertools.count(1)

    def configured(dbapi_connection: Any, _record: Any) -> None:
        configure(dbapi_connection, commits)

    event.listen(engine.sync_engine, "connect", configured)
