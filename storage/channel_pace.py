"""Each Slack channel's pace, shared by every process posting in it: Slack takes about one
message per second per channel, with short bursts, whichever replica posts them.

A GCRA (generic cell rate algorithm): one time per channel, the theoretical arrival time of
the next message; a message may go when that time is at most ``burst - 1`` intervals ahead.
``slot`` and ``paused`` are the arithmetic, for a process that paces on its own (SQLite: one
process, no row to share).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import insert
from storage.models import ChannelPaceRow


async def _row(session: AsyncSession, channel: str, now: datetime) -> ChannelPaceRow:
    """The channel's row, locked until the transaction ends (created if it is new)."""
    await session.execute(
        insert(session, ChannelPaceRow)
        .values(channel=channel, tat=now)
        .on_conflict_do_nothing(index_elements=[ChannelPaceRow.channel])
    )
    row = await session.get(ChannelPaceRow, channel, with_for_update=True, populate_existing=True)
    assert row is not None
    return row


async def reserve(
    session: AsyncSession, channel: str, now: datetime, interval: timedelta, burst: int
) -> float:
    """Take the channel's next slot: 0.0 if a message may go now (the slot is taken), else the
    seconds to wait before asking again (nothing is taken)."""
    row = await _row(session, channel, now)
    row.tat, wait = slot(row.tat, now, interval, burst)
    return wait


def slot(tat: datetime, now: datetime, interval: timedelta, burst: int) -> tuple[datetime, float]:
    """The GCRA itself: (the channel's new time, 0.0) when a message may go now, else (its
    time unchanged, the seconds to wait)."""
    due = max(tat, now)
    early = due - now - interval * (max(1, burst) - 1)
    if early > timedelta(0):
        return tat, early.total_seconds()
    return due + interval, 0.0


def paused(
    tat: datetime, now: datetime, seconds: float, interval: timedelta, burst: int
) -> datetime:
    """The channel's time once nothing may go for ``seconds``."""
    return max(tat, now + timedelta(seconds=seconds) + interval * (max(1, burst) - 1))


async def pause(
    session: AsyncSession,
    channel: str,
    now: datetime,
    seconds: float,
    interval: timedelta,
    burst: int,
) -> None:
    """No message in the channel for ``seconds`` (Slack said to wait: a rate limit)."""
    row = await _row(session, channel, now)
    row.tat = paused(row.tat, now, seconds, interval, burst)
