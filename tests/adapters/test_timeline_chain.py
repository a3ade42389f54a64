"""The timeline's hash chain on real SQLite and PostgreSQL: a whole case recorded by the bot
(``ddi-bot demo``) verifies with ``ddi-bot case verify``, and edits made around the bot are
found; the migration chains timelines written before it; concurrent writers never fork it."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.startup import open_database
from storage import cases, timeline
from storage.db import current_revision, downgrade, make_engine, make_sessions, upgrade
from storage.timeline import EventKind

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


async def ddi_bot(*args: str, url: str) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DDI_BOT_"))}
    env["DDI_BOT_DATABASE_URL"] = url
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=180)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    yield engine
    await engine.dispose()


async def sql(engine: AsyncEngine, statement: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(statement))


async def test_a_case_recorded_by_the_bot_verifies_and_edits_around_it_are_found(
    database_url: str, db: AsyncEngine
) -> None:
    code, out = await ddi_bot("demo", "--yes", "--database", database_url, url=database_url)
    assert code == 0, out
    code, out = await ddi_bot("case", "verify", "1", url=database_url)
    assert code == 0 and "the timeline is intact" in out, out
    # someone edits what a decision said
    await sql(db, "UPDATE events SET actor = 'U-EVIL' WHERE id = (SELECT MIN(id) FROM events "
                  "WHERE kind = 'decision')")  # fmt: skip
    code, out = await ddi_bot("case", "verify", "1", "--lang", "ja", url=database_url)
    assert code == 1 and "記録後に変更されています" in out, out
    async with db.connect() as conn:
        edited = (await conn.execute(text(
            "SELECT id, seq FROM events WHERE actor = 'U-EVIL'"))).one()  # fmt: skip
    code, out = await ddi_bot("case", "verify", "1", url=database_url)
    assert f"event {edited.id} (#{edited.seq} in the timeline) was altered" in out, out


async def test_truncated_and_padded_timelines_are_found(database_url: str, db: AsyncEngine) -> None:
    code, out = await ddi_bot("demo", "--yes", "--database", database_url, url=database_url)
    assert code == 0, out
    async with db.connect() as conn:
        count = (await conn.execute(text("SELECT events_count FROM cases WHERE id = 1"))).scalar()
    await sql(db, "DELETE FROM events WHERE id = (SELECT MAX(id) FROM events)")
    code, out = await ddi_bot("case", "verify", "1", url=database_url)
    assert code == 1 and f"event #{count} of the timeline is missing" in out, out
    await sql(db, "INSERT INTO events (case_id, at, kind, actor, data) VALUES "
                  "(1, '2026-12-02 03:00:00', 'decision', 'U-EVIL', '{}')")  # fmt: skip
    code, out = await ddi_bot("case", "verify", "1", url=database_url)
    assert code == 1 and "carries no hash" in out, out
    code, out = await ddi_bot("case", "verify", "99", url=database_url)
    assert code == 2 and "case #99 is not in this database" in out, out


async def test_the_migration_chains_timelines_written_before_it(db: AsyncEngine) -> None:
    await upgrade(db, "0005")
    await sql(db, "INSERT INTO appliances (name, driver, site, updated_at) "
                  "VALUES ('ddi-1', 'simulated', NULL, '2026-12-01 00:00:00')")  # fmt: skip
    await sql(db, "INSERT INTO cases (appliance, open_key, phase, state, version, lang, "
                  "requested_by, channel, thread_ts, opened_at) VALUES ('ddi-1', 'ddi-1', "
                  "'connection_test', '{}', 1, 'en', 'U1', 'C1', NULL, "
                  "'2026-12-01 00:00:00')")  # fmt: skip
    for i, kind in enumerate(("case_opened", "phase", "decision")):
        await sql(db, "INSERT INTO events (case_id, at, kind, actor, data) VALUES "
                      f"(1, '2026-12-01 00:00:0{i}.123456', '{kind}', 'U1', "
                      f"'{{\"n\": {i}, \"名前\": \"値\"}}')")  # fmt: skip
    await upgrade(db)
    sessions = make_sessions(db)
    async with sessions() as session:
        verdict = await timeline.verify_chain(session, 1)
    assert verdict is not None and verdict.intact and verdict.events == 3
    async with sessions.begin() as session:  # the bot's next event continues the chain
        await timeline.add_event(session, 1, EventKind.PHASE, {"phase": "x"}, NOW, actor=None)
    async with sessions() as session:
        verdict = await timeline.verify_chain(session, 1)
    assert verdict is not None and verdict.intact and verdict.events == 4
    await downgrade(db, "0005")  # and it goes back cleanly
    await upgrade(db)


async def test_concurrent_writers_never_fork_a_chain(db: AsyncEngine) -> None:
    """Four writers at once on PostgreSQL; SQLite has one writer at a time, so one there."""
    await upgrade(db)
    sessions = make_sessions(db)
    async with sessions.begin() as session:
        await cases.upsert_appliance(session, "ddi-1", "simulated", None, NOW)
        row = await cases.create_case(session, appliance="ddi-1", requested_by="U1",
                                      lang="en", phase="connection_test", state={},
                                      channel="C1", now=NOW)  # fmt: skip
    assert row is not None

    async def write(n: int) -> None:
        for i in range(5):
            async with sessions.begin() as session:
                await timeline.add_events(session, [
                    {"case_id": row.id, "kind": EventKind.PHASE, "data": {"w": n, "i": i},
                     "at": NOW + timedelta(seconds=i), "actor": None},
                    {"case_id": row.id, "kind": EventKind.DECISION, "data": {"w": n},
                     "at": NOW + timedelta(seconds=i), "actor": f"U{n}"},
                ])  # fmt: skip

    if db.dialect.name == "sqlite":
        await asyncio.gather(*(write(n) for n in range(1)))  # one writer at a time anyway
        expected = 10
    else:
        await asyncio.gather(*(write(n) for n in range(4)))
        expected = 40
    async with sessions() as session:
        verdict = await timeline.verify_chain(session, row.id)
    assert verdict is not None and verdict.intact and verdict.events == expected


async def test_linking_never_deadlocks_with_a_decision_being_recorded(postgres_url: str) -> None:
    """A decision's INSERT takes a key-share lock on the case row (its foreign key) before the
    unit advances the case; meanwhile another writer updates the case and links an event. The
    chain's lock must not turn that into a deadlock (FOR UPDATE did: FOR NO KEY UPDATE does not)."""
    db = await open_database(postgres_url)
    now = NOW
    async with db.write() as session:
        await cases.upsert_appliance(session, "a1", "guided", None, now)
        ids = await cases.create_cases(session, [{
            "appliance": "a1", "requested_by": "U1", "lang": "en", "phase": "connection_test",
            "state": {}, "channel": "C1", "opened_at": now, "reply_url": None}])  # fmt: skip
    case_id = ids["a1"]
    decided, locked = asyncio.Event(), asyncio.Event()

    async def unit() -> None:
        async with db.write() as session:
            await cases.record_decision(session, case_id=case_id, case_version=1,
                                        point="step_1", choice="verified", user_id="U2",
                                        now=now)  # fmt: skip
            decided.set()
            await locked.wait()
            await asyncio.sleep(0.2)
            await cases.advance_case(session, case_id, expected_version=1,
                                     phase="detection_query", state={}, closed=False,
                                     outcome=None, now=now)  # fmt: skip
            event = {"case_id": case_id, "kind": EventKind.DECISION, "data": {}, "at": now,
                     "actor": "U2"}  # fmt: skip
            await timeline.add_events(session, [event])

    async def maintenance() -> None:
        await decided.wait()
        async with db.write() as session:
            await cases.lock(session, case_id)
            locked.set()
            await asyncio.sleep(0.1)
            await timeline.add_event(session, case_id, EventKind.MAINTENANCE, {"answer": "no"},
                                     now, actor="U3")  # fmt: skip

    try:
        await asyncio.wait_for(asyncio.gather(unit(), maintenance()), 30)
        async with db.read() as session:
            verdict = await timeline.verify_chain(session, case_id)
        assert verdict is not None and verdict.intact and verdict.events == 2
    finally:
        await db.dispose()


async def test_verify_only_reads(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    code, out = await ddi_bot("case", "verify", "1", url=f"sqlite+aiosqlite:///{missing}")
    assert code == 2 and "does not exist" in out and not missing.exists(), out
    old = tmp_path / "old.db"
    engine = make_engine(f"sqlite+aiosqlite:///{old}")
    await upgrade(engine, "0005")
    await engine.dispose()
    code, out = await ddi_bot("case", "verify", "1", url=f"sqlite+aiosqlite:///{old}")
    assert code == 2 and "schema revision 0005" in out and "ddi-bot db upgrade" in out, out
    engine = make_engine(f"sqlite+aiosqlite:///{old}")
    try:
        assert await current_revision(engine) == "0005"  # left as it was
    finally:
        await engine.dispose()
