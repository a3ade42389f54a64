"""Each Slack channel's pace, shared by every process posting in it: Slack takes about one
message per second per channel, with short bursts, whichever replica posts them.

A GCRA (generic cell rate algorithm): one time per channel, the theoretical arrival time of
the next message; a message may go when that time is at most ``burst - 1`` intervals ahead.
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
    tat = max(row.tat, now)
    early = tat - now - interval * (max(1, burst) - 1)
    if early > timedelta(0):
        return early.total_seconds()
    row.tat = tat + interval
    return 0.0


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
    held = now + timedelta(seconds=seconds) + interval * (max(1, burst) - 1)
    row.tat = max(row.tat, held)
