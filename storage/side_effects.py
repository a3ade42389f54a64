"""Dangerous actions recorded before they are attempted, so they never happen twice."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import insert_once
from storage.models import SideEffectRow


async def record(
    session: AsyncSession, case_id: int, kind: str, key: str, now: datetime
) -> int | None:
    """Record the side effect before it is attempted; None if ``key`` was already recorded
    (it was attempted before, by this process or another: never again)."""
    values = {"case_id": case_id, "kind": kind, "key": key, "recorded_at": now}
    found = await insert_once(session, SideEffectRow, values, [SideEffectRow.key], SideEffectRow.id)
    return None if found is None else int(found)


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
