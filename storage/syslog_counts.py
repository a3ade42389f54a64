"""Syslog detection counts per appliance per minute: added to, summed over periods."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import insert
from storage.models import SyslogCountRow
from storage.sqlite import in_thread


async def add(session: AsyncSession, counts: Iterable[tuple[str, datetime, int]]) -> None:
    """Add (appliance, minute, n) to the stored counts in one statement per row: replicas and
    repeated flushes add up instead of overwriting each other."""
    for appliance, minute, n in counts:
        statement = insert(session, SyslogCountRow).values(
            appliance=appliance, minute=minute, count=n
        )
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[SyslogCountRow.appliance, SyslogCountRow.minute],
                set_={"count": SyslogCountRow.count + statement.excluded.count},
            )
        )


async def total(session: AsyncSession, appliance: str, start: datetime, end: datetime) -> int:
    """Detections in [start, end)."""
    result = await session.execute(
        select(func.coalesce(func.sum(SyslogCountRow.count), 0)).where(
            SyslogCountRow.appliance == appliance,
            SyslogCountRow.minute >= start,
            SyslogCountRow.minute < end,
        )
    )
    return int(result.scalar_one())


async def last_seen(session: AsyncSession, appliance: str) -> datetime | None:
    result = await session.execute(
        select(func.max(SyslogCountRow.minute)).where(SyslogCountRow.appliance == appliance)
    )
    value = result.scalar_one_or_none()
    return value if isinstance(value, datetime) else None


async def last_seen_all(session: AsyncSession) -> dict[str, datetime]:
    """Appliance -> the minute of its latest detection, for every appliance ever seen."""
    result = await session.execute(
        in_thread(
            select(SyslogCountRow.appliance, func.max(SyslogCountRow.minute)).group_by(
                SyslogCountRow.appliance
            )
        )
    )
    return {str(a): m for a, m in result.all() if isinstance(m, datetime)}


async def first_seen(session: AsyncSession, appliance: str) -> datetime | None:
    result = await session.execute(
        select(func.min(SyslogCountRow.minute)).where(SyslogCountRow.appliance == appliance)
    )
    value = result.scalar_one_or_none()
    return value if isinstance(value, datetime) else None
