"""Dangerous actions recorded before they are attempted, so they never happen twice."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import SideEffectRow


async def record(session: AsyncSession, case_id: int, kind: str, key: str, now: datetime) -> int:
    """Flushing raises IntegrityError if ``key`` was already recorded."""
    row = SideEffectRow(case_id=case_id, kind=kind, key=key, recorded_at=now)
    session.add(row)
    await session.flush()
    return row.id


async def complete(session: AsyncSession, effect_id: int, outcome: str, now: datetime) -> None:
    row = await session.get(SideEffectRow, effect_id)
    if row is not None:
        row.completed_at, row.outcome = now, outcome


async def for_case(session: AsyncSession, case_id: int, kind: str) -> Sequence[SideEffectRow]:
    result = await session.execute(
        select(SideEffectRow).where(SideEffectRow.case_id == case_id, SideEffectRow.kind == kind)
    )
    return result.scalars().all()


async def get(session: AsyncSession, key: str) -> SideEffectRow | None:
    result = await session.execute(select(SideEffectRow).where(SideEffectRow.key == key))
    return result.scalar_one_or_none()
