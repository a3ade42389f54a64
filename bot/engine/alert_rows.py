"""Alerts as the engine reads them from the database (``storage.alerts``), for the sweep,
the listings and the cases they concern."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.watch.alert import Alert, Closed
from bot.watch.findings import FLEET, Condition
from storage import alerts
from storage.models import AlertRow


def alert_of(row: AlertRow) -> Alert:
    detail = row.detail
    since = detail.get("since")
    return Alert(
        alert_id=row.id,
        condition=Condition(row.condition),
        appliance=row.appliance,
        target=row.target,
        opened_at=row.opened_at,
        detail=str(detail.get("detail") or ""),
        since=datetime.fromisoformat(since) if since else None,
        per_day=detail.get("per_day"),
        members=tuple(detail.get("members") or ()),
        cleared_at=row.cleared_at,
        case_id=row.case_id,
        case_by=row.case_by,
        closed=Closed(detail["closed"]) if detail.get("closed") else None,
        fleet_channel=detail.get("fleet_channel"),
    )


async def fleet_alert_of(session: AsyncSession, appliance: str) -> Alert | None:
    """The open fleet alert that names ``appliance`` among its sensors, if any."""
    for row in await alerts.open_alerts(session):
        if row.appliance == FLEET and appliance in (row.detail.get("members") or ()):
            return alert_of(row)
    return None
