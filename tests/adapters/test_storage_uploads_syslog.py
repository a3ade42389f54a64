"""Upload claims and syslog counts against real SQLite and PostgreSQL databases."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage import cases, syslog_counts, syslog_receivers, uploads
from storage.db import make_engine, make_sessions, upgrade

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine: AsyncEngine = make_engine(database_url)
    await upgrade(engine)
    yield make_sessions(engine)
    await engine.dispose()


async def _case(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions.begin() as session:
        await cases.upsert_appliance(session, "ddi-1", "guided", None, NOW)
        row = await cases.create_case(
            session,
            appliance="ddi-1",
            requested_by="U1",
            lang="en",
            phase="detection_query",
            state={},
            channel="C1",
            now=NOW,
        )
        return row.id


async def _claim(sessions: async_sessionmaker[AsyncSession], case_id: int, file_id: str) -> bool:
    async with sessions.begin() as session:
        return await uploads.claim(
            session,
            file_id=file_id,
            case_id=case_id,
            case_version=2,
            step=2,
            user_id="U1",
            name="export.csv",
            size=10,
            owner="A",
            now=NOW,
        )


async def test_a_file_is_claimed_once_even_when_two_events_race(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    case_id = await _case(sessions)
    results = await asyncio.gather(_claim(sessions, case_id, "F1"), _claim(sessions, case_id, "F1"))
    assert sorted(results) == [False, True]
    later = NOW + timedelta(minutes=20)
    async with sessions() as session:
        assert list(await uploads.stale(session, NOW)) == []  # claimed at NOW: not stale yet
        assert [u.file_id for u in await uploads.stale(session, later)] == ["F1"]
    async with sessions.begin() as session:  # the owner renews; nobody else can
        assert await uploads.renew(session, "F1", "A", NOW)
        assert not await uploads.renew(session, "F1", "B", NOW)
    # two restarted processes find it stale at once: one takes it over
    async with sessions.begin() as session:
        assert await uploads.retake(session, "F1", "B", later, later)
    async with sessions.begin() as session:
        assert not await uploads.retake(session, "F1", "C", later, later)
    async with (
        sessions.begin() as session
    ):  # the old owner lost it: it can neither renew nor finish
        assert not await uploads.renew(session, "F1", "A", later)
        assert not await uploads.finish(session, "F1", "A", "done", later)
    async with sessions.begin() as session:
        done = await uploads.finish(
            session, "F1", "B", "done", later, size=3 * 2**30, sha256="ab" * 32
        )
        assert done
    async with sessions.begin() as session:  # finished once: a late second finish changes nothing
        assert not await uploads.finish(session, "F1", "B", "refused", later)
    async with sessions() as session:
        row = await uploads.get(session, "F1")
        assert row is not None and (row.status, row.size) == ("done", 3 * 2**30)
        assert list(await uploads.stale(session, later + timedelta(hours=1))) == []


async def test_syslog_counts_add_up_and_sum_over_a_period(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    minute = NOW.replace(minute=5)
    async with sessions.begin() as session:
        await syslog_counts.add(session, [("ddi-1", minute, 3), ("ddi-2", minute, 1)])
    async with sessions.begin() as session:  # a second flush of the same minute adds
        await syslog_counts.add(session, [("ddi-1", minute, 4), ("ddi-1", NOW, 2)])
    async with sessions() as session:
        assert await syslog_counts.total(session, "ddi-1", NOW, NOW + timedelta(hours=1)) == 9
        assert await syslog_counts.total(session, "ddi-1", minute, NOW + timedelta(hours=1)) == 7
        assert await syslog_counts.total(session, "ddi-3", NOW, NOW + timedelta(hours=1)) == 0
        assert await syslog_counts.last_seen(session, "ddi-1") == minute
        assert await syslog_counts.first_seen(session, "ddi-1") == NOW
        assert await syslog_counts.last_seen(session, "ddi-3") is None


@pytest.mark.parametrize(
    ("receivers", "heard"),
    [
        ([(0, 24)], True),  # one receiver, all along
        ([(1, 24)], False),  # started an hour into the period
        ([(0, 10), (9.99, 24)], True),  # a rolling deploy: the new one started in time
        ([(0, 10), (10.005, 24)], False),  # the old one killed: 18 s nobody listened
        ([(0, 10), (11, 24)], False),  # an hour nobody listened
        ([(0, 16), (8, 24), (2, 3)], True),  # replicas side by side
        ([(0, 20)], False),  # stopped four hours ago (not seen since)
    ],
)
async def test_silence_counts_only_where_some_receiver_listened_all_along(
    sessions: async_sessionmaker[AsyncSession],
    receivers: list[tuple[float, float]],
    heard: bool,
) -> None:
    start = datetime(2026, 12, 1, tzinfo=UTC)
    end = start + timedelta(hours=24)
    async with sessions.begin() as session:
        for n, (began, last) in enumerate(receivers):
            await syslog_receivers.started(session, f"r{n}", start + timedelta(hours=began))
            await session.flush()
            await syslog_receivers.seen(session, f"r{n}", start + timedelta(hours=last))
    async with sessions() as session:
        assert await syslog_receivers.listened_through(session, start, end) is heard
