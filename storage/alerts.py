"""The fleet watch's alerts. Functions take a session and never commit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import insert_once
from storage.models import AlertRow


async def open_alerts(session: AsyncSession) -> Sequence[AlertRow]:
    result = await session.execute(
        select(AlertRow).where(AlertRow.open_key.is_not(None)).order_by(AlertRow.id)
    )
    return result.scalars().all()


async def add(
    session: AsyncSession,
    *,
    key: str,
    appliance: str,
    condition: str,
    target: str,
    detail: dict[str, Any],
    channel: str,
    lang: str,
    now: datetime,
) -> int | None:
    """Raise an alert; None if one with that key is open already (another sweep raised it)."""
    values = {
        "key": key,
        "open_key": key,
        "appliance": appliance,
        "condition": condition,
        "target": target,
        "detail": detail,
        "channel": channel,
        "lang": lang,
        "opened_at": now,
        "changes": 0,
    }
    found = await insert_once(session, AlertRow, values, [AlertRow.open_key], AlertRow.id)
    return None if found is None else int(found)


async def previous(session: AsyncSession, key: str, before_id: int) -> AlertRow | None:
    """The latest alert with ``key`` raised before alert ``before_id``."""
    result = await session.execute(
        select(AlertRow)
        .where(AlertRow.key == key, AlertRow.id < before_id)
        .order_by(AlertRow.id.desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


async def get(session: AsyncSession, alert_id: int) -> AlertRow | None:
    return await session.get(AlertRow, alert_id, populate_existing=True)


async def lock(session: AsyncSession, alert_id: int) -> AlertRow | None:
    """The alert, locked for this transaction (PostgreSQL; SQLite has one writer anyway)."""
    result = await session.execute(
        select(AlertRow)
        .where(AlertRow.id == alert_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def close(
    session: AsyncSession, alert_id: int, now: datetime, detail: dict[str, Any]
) -> bool:
    """Close an open alert, with what people are shown of it now; False if it was closed
    already (another sweep did)."""
    return await _set(
        session, alert_id, AlertRow.open_key.is_not(None),
        open_key=None, cleared_at=now, detail=detail, changes=AlertRow.changes + 1,
    )  # fmt: skip


async def _set(session: AsyncSession, alert_id: int, *where: Any, **values: Any) -> bool:
    """Update one alert (where ``where`` also holds); False if it did not change."""
    result = await session.execute(
        update(AlertRow)
        .where(AlertRow.id == alert_id, *where)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0)) == 1


async def set_detail(session: AsyncSession, alert_id: int, detail: dict[str, Any]) -> None:
    await _set(session, alert_id, detail=detail, changes=AlertRow.changes + 1)


async def set_case(session: AsyncSession, alert_id: int, case_id: int, user: str) -> bool:
    """Record the case opened from an alert; False if one was recorded already."""
    return await _set(
        session, alert_id, AlertRow.case_id.is_(None),
        case_id=case_id, case_by=user, changes=AlertRow.changes + 1,
    )  # fmt: skip


async def set_channel(session: AsyncSession, alert_id: int, channel: str) -> None:
    await _set(session, alert_id, channel=channel)


async def set_ts(session: AsyncSession, alert_id: int, ts: str) -> None:
    await _set(session, alert_id, ts=ts)


async def last_change(session: AsyncSession) -> tuple[int, int]:
    """(alerts raised, their changes since): moves whenever an alert is raised or changes."""
    result = await session.execute(
        select(func.coalesce(func.max(AlertRow.id), 0), func.sum(AlertRow.changes))
    )
    raised, changed = result.one()
    return int(raised), int(changed or 0)
