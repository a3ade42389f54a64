"""Timers: work due later, stored so that a restart loses nothing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import table
from storage.models import TimerRow

# built once: Core statements of the table (every transition with a timer runs them)
_TIMERS = table(TimerRow)
_ADD = insert(_TIMERS)
_CLAIM = (
    update(_TIMERS)
    .where(_TIMERS.c.id == bindparam("timer_id"), _TIMERS.c.fired_at.is_(None))
    .values(fired_at=bindparam("at"))
)
_SPEND = _CLAIM.where(_TIMERS.c.case_version == bindparam("version"))
_CARRY = (
    update(_TIMERS)
    .where(
        _TIMERS.c.case_id == bindparam("case"),
        _TIMERS.c.case_version == bindparam("old"),
        _TIMERS.c.fired_at.is_(None),
        _TIMERS.c.kind.in_(bindparam("kinds", expanding=True)),
    )
    .values(case_version=bindparam("new"))
)
_DUE = (
    select(TimerRow)
    .where(TimerRow.fired_at.is_(None), TimerRow.due_at <= bindparam("at"))
    .order_by(TimerRow.due_at)
)
_NEXT_DUE = select(func.min(TimerRow.due_at)).where(TimerRow.fired_at.is_(None))


async def add_timer(
    session: AsyncSession, case_id: int, kind: str, case_version: int, due_at: datetime
) -> None:
    values = {"case_id": case_id, "kind": kind, "case_version": case_version, "due_at": due_at}
    await session.execute(_ADD, values)


async def due_timers(session: AsyncSession, now: datetime) -> Sequence[TimerRow]:
    result = await session.execute(_DUE, {"at": now})
    return result.scalars().all()


async def claim(session: AsyncSession, timer_id: int, now: datetime) -> bool:
    """Mark a timer fired; only one claimer (task or replica) gets True."""
    result = await session.execute(_CLAIM, {"timer_id": timer_id, "at": now})
    return bool(getattr(result, "rowcount", 0) == 1)


async def spend(session: AsyncSession, timer_id: int, version: int, now: datetime) -> bool:
    """Mark a timer fired without its transition, because the case moved on from
    ``version``; a timer carried to a newer version since stays due."""
    values = {"timer_id": timer_id, "at": now, "version": version}
    result = await session.execute(_SPEND, values)
    return bool(getattr(result, "rowcount", 0) == 1)


async def carry(
    session: AsyncSession, case_id: int, old: int, new: int, kinds: Sequence[str]
) -> int:
    """The case's pending timers of ``kinds`` set at version ``old`` now belong to ``new``
    (same due time); how many."""
    values = {"case": case_id, "old": old, "new": new, "kinds": list(kinds)}
    result = await session.execute(_CARRY, values)
    return int(getattr(result, "rowcount", 0))


async def next_due(session: AsyncSession) -> datetime | None:
    result = await session.execute(_NEXT_DUE)
    return result.scalar_one_or_none()  # min() keeps the column type: a UTC datetime


async def pending(session: AsyncSession, case_id: int) -> Sequence[TimerRow]:
    result = await session.execute(
        select(TimerRow).where(TimerRow.case_id == case_id, TimerRow.fired_at.is_(None))
    )
    return result.scalars().all()


async def pending_for(session: AsyncSession, case_ids: Sequence[int]) -> Sequence[TimerRow]:
    """The timers not yet fired of several cases."""
    if not case_ids:
        return []
    result = await session.execute(
        select(TimerRow).where(TimerRow.case_id.in_(case_ids), TimerRow.fired_at.is_(None))
    )
    return result.scalars().all()
