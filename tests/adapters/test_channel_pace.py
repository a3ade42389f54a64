"""Each channel's pace of Slack messages, in the database: shared by every replica posting in
the channel (a short burst, then one message per interval; a rate limit pauses it)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import channel_pace, outbox
from storage.db import make_engine, make_sessions, upgrade
from storage.models import OutboxRow

SECOND = timedelta(seconds=1)
T0 = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


@pytest.fixture
async def replicas(
    database_url: str,
) -> AsyncIterator[tuple[async_sessionmaker[AsyncSession], async_sessionmaker[AsyncSession]]]:
    """Two processes' connections to one database."""
    engines = [make_engine(database_url), make_engine(database_url)]
    await upgrade(engines[0])
    yield make_sessions(engines[0]), make_sessions(engines[1])
    for engine in engines:
        await engine.dispose()


async def _reserve(sessions: async_sessionmaker[AsyncSession], at: datetime) -> float:
    async with sessions.begin() as session:
        return await channel_pace.reserve(session, "C1", at, SECOND, burst=3)


async def test_replicas_share_a_burst_then_one_message_a_second(
    replicas: tuple[async_sessionmaker[AsyncSession], async_sessionmaker[AsyncSession]],
) -> None:
    one, two = replicas
    now, waits = T0, []
    for n in range(6):  # the two replicas take turns posting in one channel
        wait = await _reserve(one if n % 2 else two, now)
        while wait > 0:
            waits.append(round(wait, 3))
            now += timedelta(seconds=wait)
            wait = await _reserve(one if n % 2 else two, now)
        waits.append(0.0)
    assert waits == [0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0]
    # a quiet channel takes a burst again, never more than the burst
    now += timedelta(seconds=60)
    assert [await _reserve(one, now) for _ in range(4)] == [0.0, 0.0, 0.0, 1.0]
    async with one.begin() as session:  # another channel has its own pace
        assert await channel_pace.reserve(session, "C2", now, SECOND, burst=3) == 0.0


async def test_a_rate_limit_pauses_the_channel_for_every_replica(
    replicas: tuple[async_sessionmaker[AsyncSession], async_sessionmaker[AsyncSession]],
) -> None:
    one, two = replicas
    async with one.begin() as session:  # Slack told replica one to wait 30 s
        await channel_pace.pause(session, "C1", T0, 30.0, SECOND, burst=3)
    assert await _reserve(two, T0) == 30.0
    assert await _reserve(two, T0 + timedelta(seconds=29)) == 1.0
    assert await _reserve(two, T0 + timedelta(seconds=30)) == 0.0


async def test_a_process_waiting_for_the_channel_holds_no_message(
    replicas: tuple[async_sessionmaker[AsyncSession], async_sessionmaker[AsyncSession]],
) -> None:
    """Killed while it waits for the channel's slot, a process leaves no message leased (and
    marked maybe posted) for the others to wait out; a reply to a person is not paced."""
    one, two = replicas

    async def pace(session: AsyncSession, channel: str) -> float:
        return await channel_pace.reserve(session, channel, T0, SECOND, 3)

    until = T0 + 60 * SECOND
    async with one.begin() as session:
        await outbox.add(session, stream="s", channel="C1", kind="post", body={}, now=T0)
        await outbox.add(session, stream="r", channel="C2", kind="reply", body={}, now=T0)
        for paused in ("C1", "C2"):
            await channel_pace.pause(session, paused, T0, 30.0, SECOND, burst=3)
    async with one.begin() as session:
        taken = await outbox.take(session, "C1", owner="one", now=T0, until=until, pace=pace)
    assert taken == 30.0
    async with two() as session:
        row = (
            await session.execute(select(OutboxRow).where(OutboxRow.kind == "post"))
        ).scalar_one()
        assert (row.owner, row.lease_until) == (None, None)
    async with two.begin() as session:
        taken = await outbox.take(session, "C2", owner="two", now=T0, until=until, pace=pace)
    assert isinstance(taken, tuple) and taken[0].kind == "reply"
