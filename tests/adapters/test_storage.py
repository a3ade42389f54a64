"""Repositories and migrations against real SQLite and PostgreSQL databases."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage import cases, side_effects, timeline, timers
from storage.db import current_revision, downgrade, make_engine, make_sessions, upgrade
from storage.models import ApplianceRow
from storage.timeline import EventKind

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    await upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(db: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessions(db)


async def _open(sessions: async_sessionmaker[AsyncSession], appliance: str = "ddi-1") -> int | None:
    async with sessions.begin() as session:
        await cases.upsert_appliance(session, appliance, "simulated", None, NOW)
        row = await cases.create_case(
            session,
            appliance=appliance,
            requested_by="U1",
            lang="en",
            phase="connection_test",
            state={"phase": "connection_test"},
            channel="C1",
            now=NOW,
        )
        return None if row is None else row.id


async def _case(sessions: async_sessionmaker[AsyncSession], appliance: str = "ddi-1") -> int:
    case_id = await _open(sessions, appliance)
    assert case_id is not None
    return case_id


async def test_migrations_create_the_schema_and_are_idempotent(db: AsyncEngine) -> None:
    await upgrade(db)  # a second run at start must change nothing
    assert await current_revision(db) == "0008"
    tables = await _tables(db)
    assert {"appliances", "cases", "step_runs", "decisions", "events", "timers"} <= tables
    assert "side_effects" in tables
    # the job queue replicas share lives in PostgreSQL only
    queue = {"procrastinate_jobs", "procrastinate_workers", "procrastinate_periodic_defers"}
    assert (queue <= tables) == (db.dialect.name == "postgresql")


async def _tables(db: AsyncEngine) -> set[str]:
    async with db.connect() as conn:
        return await conn.run_sync(lambda c: set(inspect(c).get_table_names()))


async def test_the_job_queue_schema_rolls_back_and_forward(db: AsyncEngine) -> None:
    await downgrade(db, "0003")
    assert await current_revision(db) == "0003"
    assert not any(name.startswith("procrastinate") for name in await _tables(db))
    await upgrade(db)  # nothing of the old schema is left in the way
    assert await current_revision(db) == "0008"


async def test_at_most_one_open_case_per_appliance(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    first = await _case(sessions)
    assert await _open(sessions) is None  # refused, and the transaction is still usable
    await _case(sessions, "ddi-2")  # other appliances are independent
    async with sessions.begin() as session:
        closed = await cases.advance_case(
            session, first, expected_version=1, phase="resolved", state={}, closed=True,
            outcome="resolved", now=NOW,
        )  # fmt: skip
    assert closed
    await _case(sessions)  # closed: a new case may open


async def test_state_changes_are_compare_and_swap(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    case_id = await _case(sessions)

    async def advance(version: int) -> bool:
        async with sessions.begin() as session:
            return await cases.advance_case(
                session, case_id, expected_version=version, phase="detection_query",
                state={"n": version}, closed=False, outcome=None, now=NOW,
            )  # fmt: skip

    results = await asyncio.gather(*(advance(1) for _ in range(5)))
    assert results.count(True) == 1
    assert await advance(1) is False
    assert await advance(2) is True
    async with sessions() as session:
        row = await cases.get_case(session, case_id)
    assert row is not None and row.version == 3 and row.state == {"n": 2}


async def test_a_question_is_answered_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    case_id = await _case(sessions)

    async def decide(choice: str, user: str) -> bool:
        async with sessions.begin() as session:
            return await cases.record_decision(
                session, case_id=case_id, case_version=4, point="reboot", choice=choice,
                user_id=user, now=NOW,
            )  # fmt: skip

    results = await asyncio.gather(decide("approve_reboot", "U1"), decide("reject_reboot", "U2"))
    assert sorted(results) == [False, True]
    assert await decide("reject_reboot", "U3") is False
    async with sessions() as session:
        row = await cases.decision_for(session, case_id, 4)
    first = ("approve_reboot", "U1") if results[0] else ("reject_reboot", "U2")
    assert row is not None and (row.choice, row.user_id) == first
    assert row.decided_at == NOW and row.decided_at.tzinfo is not None


async def test_a_timer_fires_once_even_when_claimed_concurrently(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    case_id = await _case(sessions)
    async with sessions.begin() as session:
        await timers.add_timer(session, case_id, "recheck", 3, NOW + timedelta(hours=6))
        await timers.add_timer(session, case_id, "poll_appliance", 3, NOW - timedelta(seconds=1))
    async with sessions() as session:
        assert await timers.next_due(session) == NOW - timedelta(seconds=1)
        due = await timers.due_timers(session, NOW)
    assert [t.kind for t in due] == ["poll_appliance"]

    async def claim() -> bool:
        async with sessions.begin() as session:
            return await timers.claim(session, due[0].id, NOW)

    assert (await asyncio.gather(*(claim() for _ in range(5)))).count(True) == 1
    async with sessions() as session:
        assert list(await timers.due_timers(session, NOW)) == []


async def test_carried_timers_keep_their_due_time_and_a_stale_spend_misses_them(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    case_id = await _case(sessions)
    due_at = NOW - timedelta(seconds=1)
    async with sessions.begin() as session:
        await timers.add_timer(session, case_id, "approval_expiry", 4, due_at)
        await timers.add_timer(session, case_id, "approval_reminder", 4, due_at)
        await timers.add_timer(session, case_id, "recheck", 4, due_at)  # not the question's
    async with sessions() as session:
        (expiry,) = [
            t for t in await timers.due_timers(session, NOW) if t.kind == "approval_expiry"
        ]
    async with sessions.begin() as session:  # an approval short of the quorum
        kinds = ("approval_expiry", "approval_reminder")
        assert await timers.carry(session, case_id, 4, 5, kinds) == 2
    async with sessions() as session:
        pending = {
            t.kind: (t.case_version, t.due_at) for t in await timers.pending(session, case_id)
        }
    assert pending == {
        "approval_expiry": (5, due_at),
        "approval_reminder": (5, due_at),
        "recheck": (4, due_at),
    }
    # a timer task that read the expiry at version 4 finds the case moved on: it must not
    # spend the timer that now belongs to version 5
    async with sessions.begin() as session:
        assert await timers.spend(session, expiry.id, 4, NOW) is False
        assert await timers.spend(session, expiry.id, 5, NOW) is True
    async with sessions() as session:
        left = {t.kind for t in await timers.pending(session, case_id)}
    assert left == {"approval_reminder", "recheck"}


async def test_a_side_effect_key_is_recorded_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    case_id = await _case(sessions)
    async with sessions.begin() as session:
        effect = await side_effects.record(session, case_id, "reboot", "reboot:1:1", NOW)
    assert effect is not None
    async with sessions.begin() as session:
        assert await side_effects.record(session, case_id, "reboot", "reboot:1:1", NOW) is None
    async with sessions.begin() as session:
        pending = await side_effects.get(session, "reboot:1:1")
        assert pending is not None and pending.completed_at is None
        await side_effects.complete(session, effect, "sent", NOW)
    async with sessions() as session:
        done = await side_effects.get(session, "reboot:1:1")
        assert done is not None and (done.completed_at, done.outcome) == (NOW, "sent")


async def test_the_timeline_keeps_order_and_json(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    case_id = await _case(sessions)
    async with sessions.begin() as session:
        await timeline.start_step_run(session, case_id, 1, NOW)
        await timeline.add_event(session, case_id, EventKind.STEP_STARTED, {"step": 1}, NOW)
        await timeline.finish_open_step_run(
            session, case_id, 1, "problem", {"message": "ソケット"}, NOW
        )
        await timeline.add_event(session, case_id, EventKind.DECISION, {"c": "x"}, NOW, actor="U1")
    async with sessions() as session:
        kinds = [(e.kind, e.actor) for e in await timeline.events(session, case_id)]
        runs = list(await timeline.step_runs(session, case_id))
    assert kinds == [("step_started", None), ("decision", "U1")]
    assert runs[0].result == {"message": "ソケット"} and runs[0].outcome == "problem"


async def test_replicas_starting_together_migrate_and_sync_without_colliding(
    database_url: str,
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("a SQLite file serves one process; replicas share PostgreSQL")
    env = {**os.environ, "DDI_BOT_DATABASE_URL": database_url}
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "db",
            "upgrade",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(3)
    ]
    results = [await p.communicate() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [err.decode() for _, err in results]
    engines = [make_engine(database_url) for _ in range(3)]
    try:
        sessions = [make_sessions(e) for e in engines]

        async def sync(s: async_sessionmaker[AsyncSession], site: str) -> None:
            async with s.begin() as session:
                for name in ("ddi-1", "ddi-2", "ddi-3"):
                    await cases.upsert_appliance(session, name, "simulated", site, NOW)

        await asyncio.gather(*(sync(s, f"site-{i}") for i, s in enumerate(sessions)))
        async with sessions[0]() as session:
            rows = (await session.execute(select(ApplianceRow))).scalars().all()
        assert sorted(r.name for r in rows) == ["ddi-1", "ddi-2", "ddi-3"]
        assert await current_revision(engines[0]) == "0008"
    finally:
        for e in engines:
            await e.dispose()
