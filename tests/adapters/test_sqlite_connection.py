"""storage.sqlite: which statements run in the event loop's thread, and which wait in the
connection's own thread, on a real SQLite file."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import sqlite, syslog_counts, timeline
from storage.db import Database, make_engine, upgrade
from storage.sqlite import in_thread
from storage.timeline import EventKind


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    made = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")

    def thread_function(dbapi_connection: Any, _record: Any) -> None:
        # which thread ran the statement that calls it
        dbapi_connection.driver_connection._conn.create_function(
            "thread_id", 0, threading.get_ident
        )

    event.listen(made.sync_engine, "connect", thread_function)
    async with made.begin() as conn:
        await conn.execute(text("CREATE TABLE seen (thread INTEGER)"))
    yield made
    await made.dispose()


async def _threads(db: Database) -> list[int]:
    async with db.read() as session:
        result = await session.execute(text("SELECT thread FROM seen ORDER BY rowid"))
        return [int(t) for t in result.scalars()]


async def test_reads_and_held_writes_run_in_the_loop_thread(engine: AsyncEngine) -> None:
    db = Database(engine)
    loop_thread = threading.get_ident()
    async with db.read() as session:
        read = (await session.execute(text("SELECT thread_id()"))).scalar_one()
    async with db.write() as session:  # BEGIN IMMEDIATE: this connection holds the lock
        in_write = (await session.execute(text("SELECT thread_id()"))).scalar_one()
        await session.execute(text("INSERT INTO seen VALUES (thread_id())"))
    assert read == in_write == loop_thread
    assert await _threads(db) == [loop_thread]  # committed


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What went to a connection's thread (the calls themselves still run)."""
    seen: list[str] = []
    trip = sqlite.Connection.trip

    async def counted(self: sqlite.Connection, function: Any) -> Any:
        seen.append(repr(getattr(function, "args", function))[:200])
        return await trip(self, function)

    monkeypatch.setattr(sqlite.Connection, "trip", counted)
    return seen


async def test_a_write_transaction_makes_no_trip_to_the_thread(
    engine: AsyncEngine, trips: list[str]
) -> None:
    db = Database(engine)
    async with db.write():  # BEGIN IMMEDIATE and COMMIT of nothing
        pass
    async with db.write() as session:
        await session.execute(text("INSERT INTO seen VALUES (thread_id())"))
        await session.execute(text("UPDATE seen SET thread = thread"))
        assert (await session.execute(text("SELECT count(*) FROM seen"))).scalar_one() == 1
    assert trips == []
    assert await _threads(db) == [threading.get_ident()]


async def test_outside_the_thread_no_statement_waits_for_a_lock(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        assert isinstance(raw, sqlite.Connection)
        assert raw._conn.execute("PRAGMA busy_timeout").fetchone() == (0,)
        assert raw._conn.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
        assert raw.busy_ms == 30_000  # what the thread waits


async def test_only_statements_that_need_no_lock_are_tried_at_once(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        assert isinstance(raw, sqlite.Connection)
        at_once = [
            "SELECT 1", "  select count(*) FROM seen", "WITH t AS (SELECT 1) SELECT * FROM t",
            "BEGIN IMMEDIATE",
        ]  # fmt: skip
        in_thread = [
            "INSERT INTO seen VALUES (1)", "UPDATE seen SET thread = 1", "DELETE FROM seen",
            "WITH t AS (SELECT 1) INSERT INTO seen SELECT * FROM t", "CREATE TABLE x (y)",
            "PRAGMA journal_mode", "BEGIN", "SAVEPOINT a", "REPLACE INTO seen VALUES (1)",
        ]  # fmt: skip
        assert [sql for sql in at_once + in_thread if raw.at_once(sql)] == at_once
        raw.holding = True  # a transaction it began ended some other way: not held any more
        assert not raw._conn.in_transaction
        assert not raw.at_once("INSERT INTO seen VALUES (1)")
        assert raw.holding is False


async def test_a_write_outside_begin_immediate_waits_in_the_connection_thread(
    engine: AsyncEngine,
) -> None:
    db = Database(engine)
    async with engine.begin() as conn:  # sqlite3 begins it lazily: the INSERT may wait
        await conn.execute(text("INSERT INTO seen VALUES (thread_id())"))
    (thread,) = await _threads(db)
    assert thread != threading.get_ident()


async def test_a_rolled_back_write_leaves_nothing_and_the_lock_is_not_assumed_after(
    engine: AsyncEngine,
) -> None:
    db = Database(engine)
    with pytest.raises(RuntimeError):
        async with db.write() as session:
            await session.execute(text("INSERT INTO seen VALUES (thread_id())"))
            raise RuntimeError("the unit of work fails")
    assert await _threads(db) == []
    async with engine.begin() as conn:  # same pooled connection, no BEGIN IMMEDIATE now
        await conn.execute(text("INSERT INTO seen VALUES (thread_id())"))
    (thread,) = await _threads(db)
    assert thread != threading.get_ident()


async def test_waiting_for_another_process_lock_does_not_block_the_loop(
    engine: AsyncEngine, tmp_path: Path, trips: list[str]
) -> None:
    """The syslog writer (another process) holds the write lock: the bot's transaction waits
    for it in the connection's thread while the event loop goes on, then commits."""
    db = Database(engine)
    other = sqlite3.connect(tmp_path / "bot.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO seen VALUES (-1)")

    async def write() -> None:
        async with db.write() as session:
            await session.execute(text("INSERT INTO seen VALUES (thread_id())"))

    trips.clear()
    writing = asyncio.create_task(write())
    await asyncio.sleep(0.3)  # returns at all only if the loop is not stuck in the wait
    assert not writing.done()
    other.execute("COMMIT")  # from the loop's thread: had the wait blocked it, never reached
    other.close()
    await asyncio.wait_for(writing, 20)
    assert await _threads(db) == [-1, threading.get_ident()]
    assert len(trips) == 1 and "BEGIN IMMEDIATE" in trips[0]  # only the wait went there
    async with db.read() as session:  # the next wait is as long as ever
        assert (await session.execute(text("PRAGMA busy_timeout"))).scalar_one() == 30_000


def _checkpointed(path: Path) -> list[int] | None:
    """The rows of ``seen`` in the database file itself, without its write-ahead log (None:
    not even the table is there yet)."""
    with sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True) as raw:
        if raw.execute("SELECT name FROM sqlite_master WHERE name = 'seen'").fetchone() is None:
            return None
        return [int(row[0]) for row in raw.execute("SELECT thread FROM seen")]


async def test_commits_do_not_checkpoint_but_every_nth_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite, "CHECKPOINT_EVERY", 3)
    path = tmp_path / "wal.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    db = Database(engine)
    try:
        async with db.write() as session:  # commit 1
            await session.execute(text("CREATE TABLE seen (thread INTEGER)"))
        async with db.write() as session:  # commit 2
            await session.execute(text("INSERT INTO seen VALUES (1)"))
        assert _checkpointed(path) is None  # all of it in the log, none in the file yet
        async with db.write() as session:  # commit 3: a checkpoint
            await session.execute(text("INSERT INTO seen VALUES (2)"))
        assert _checkpointed(path) == [1, 2]
        async with db.write() as session:  # commit 4: the checkpoint left nothing unfinished
            await session.execute(text("INSERT INTO seen VALUES (3)"))
        async with db.read() as session:  # and every commit is visible, as ever
            rows = await session.execute(text("SELECT thread FROM seen"))
            assert list(rows.scalars()) == [1, 2, 3]
    finally:
        await engine.dispose()


async def test_a_statement_that_scans_much_runs_in_the_thread(
    engine: AsyncEngine, trips: list[str]
) -> None:
    db = Database(engine)
    marked = in_thread(select(func.thread_id()))
    async with db.read() as session:
        thread = (await session.execute(marked)).scalar_one()
    assert thread != threading.get_ident()
    assert len(trips) == 1 and sqlite.IN_THREAD in trips[0]
    # only SQLite's statements carry the mark (PostgreSQL's have no thread to go to)
    assert sqlite.IN_THREAD not in str(marked.compile(dialect=postgresql.dialect()))


async def test_the_fleet_watch_aggregates_run_in_the_thread(
    tmp_path: Path, trips: list[str]
) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'fleet.db'}")
    try:
        await upgrade(engine)
        trips.clear()
        async with Database(engine).read() as session:
            assert await syslog_counts.last_seen_all(session) == {}
            assert await timeline.latest_by_appliance(session, EventKind.PROBES) == {}
        assert len(trips) == 2 and all(sqlite.IN_THREAD in trip for trip in trips)
    finally:
        await engine.dispose()
