"""The syslog receivers of every replica, and until when each was known to listen."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import SyslogReceiverRow

HEARTBEAT = 10.0  # seconds between two "still listening" of a receiver
LATE = timedelta(seconds=3 * HEARTBEAT)  # a receiver not seen for longer has stopped


async def started(session: AsyncSession, receiver: str, now: datetime) -> None:
    session.add(SyslogReceiverRow(id=receiver, started_at=now, seen_at=now))


async def seen(session: AsyncSession, receiver: str, now: datetime) -> None:
    await session.execute(
        update(SyslogReceiverRow).where(SyslogReceiverRow.id == receiver).values(seen_at=now)
    )


async def listened_through(
    session: AsyncSession, start: datetime, end: datetime, late: timedelta = LATE
) -> bool:
    """Whether some receiver listened at every moment from ``start`` to ``end``: one after
    another (a rolling deploy), or side by side (replicas). A receiver listens until it was
    last seen (it says so every HEARTBEAT s, and as it stops); one still running (seen within
    ``late`` of ``end``) listens up to ``end``. A receiver killed is not credited with the
    time after its last word: silence then is nobody's."""
    rows = await session.execute(
        select(SyslogReceiverRow.started_at, SyslogReceiverRow.seen_at)
        .where(SyslogReceiverRow.started_at <= end, SyslogReceiverRow.seen_at >= start - late)
        .order_by(SyslogReceiverRow.started_at)
    )
    covered = start
    for began, last in rows:
        if began > covered:
            return False  # nobody listened between covered and began
        covered = max(covered, end if last + late >= end else last)
        if covered >= end:
            return True
    return covered >= end
