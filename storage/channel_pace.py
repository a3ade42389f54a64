"""Each Slack channel's pace, shared by every process posting in it: Slack takes about one
message per second per channel, with short bursts, whichever replica posts them.

A GCRA (generic cell rate algorithm): one time per channel, the theoretical arrival time of
the next message; a message may go when that time is at most ``burst - 1`` intervals ahead.
``slot`` and ``paused`` are the arithmetic, for a process that paces on its own (SQLite: one
process, no row to share).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import PerDialect, table
from storage.models import ChannelPaceRow

# Core statements built once: a pace is taken for every message posted (the ORM's load and
# flush of the row cost more than the statements)
_PACE = table(ChannelPaceRow)
# the channel's time, its row locked until the transaction ends (created if it is new): an
# upsert that changes nothing locks the row as SELECT ... FOR UPDATE would
_TAKE = PerDialect(
    lambda insert: (
        insert(_PACE)
        .values(channel=bindparam("of_channel"), tat=bindparam("at"))
        .on_conflict_do_update(index_elements=[_PACE.c.channel], set_={"tat": _PACE.c.tat})
        .returning(_PACE.c.tat)
    )
)
_SET = update(_PACE).where(_PACE.c.channel == bindparam("of_channel")).values(tat=bindparam("new"))


async def _tat(session: AsyncSession, channel: str, now: datetime) -> datetime:
    """The channel's time, its row locked until the transaction ends (created if it is new)."""
    result = await session.execute(_TAKE(session), {"of_channel": channel, "at": now})
    tat: datetime = result.scalar_one()
    return tat


async def _set(session: AsyncSession, channel: str, tat: datetime, new: datetime) -> None:
    if new != tat:
        await session.execute(_SET, {"of_channel": channel, "new": new})


async def reserve(
    session: AsyncSession, channel: str, now: datetime, interval: timedelta, burst: int
) -> float:
    """Take the channel's next slot: 0.0 if a message may go now (the slot is taken), else the
    seconds to wait before asking again (nothing is taken)."""
    tat = await _tat(session, channel, now)
    new, wait = slot(tat, now, interval, burst)
    await _set(session, channel, tat, new)
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
    tat = await _tat(session, channel, now)
    await _set(session, channel, tat, paused(tat, now, seconds, interval, burst))
