"""Timers: work due later, stored so that a restart loses nothing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import TimerRow


async def add_timer(
    session: AsyncSession, case_id: int, kind: str, case_version: int, due_at: datetime
) -> None:
    session.add(TimerRow(case_id=case_id, kind=kind, case_version=case_version, due_at=due_at))


async def due_timers(session: AsyncSession, now: datetime) -> Sequence[TimerRow]:
    result = await session.execute(
        select(TimerRow)
        .where(TimerRow.fired_at.is_(None), TimerRow.due_at <= now)
        .order_by(TimerRow.due_at)
    )
    return result.scalars().all()


async def claim(session: AsyncSession, timer_id: int, now: datetime) -> bool:
    """Mark a timer fired; only one claimer (task or replica) gets True."""
    result = await session.execute(
        update(TimerRow)
        .where(TimerRow.id == timer_id, TimerRow.fired_at.is_(None))
        .values(fired_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def next_due(session: AsyncSession) -> datetime | None:
    result = await session.execute(
        select(func.min(TimerRow.due_at)).where(TimerRow.fired_at.is_(None))
    )
    return result.scalar_one_or_none()  # min() keeps the column type: a UTC datetime


async def pending(session: AsyncSession, case_id: int) -> Sequence[TimerRow]:
    result = await session.execute(
        select(TimerRow).where(TimerRow.case_id == case_id, TimerRow.fired_at.is_(None))
    )
    return result.scalars().all()
