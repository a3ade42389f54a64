"""The facts the App Home tab shows, read from the database in one short transaction (its
text is ``bot.home``): no probe runs when someone opens the tab."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from bot.engine.alert_rows import alert_of
from bot.engine.context import Context
from bot.engine.unit import past_of
from bot.home import ApplianceHealth, HomeFacts
from bot.listing import OpenEntry
from bot.watch.findings import Condition
from storage import alerts, cases, syslog_counts, timeline
from storage.timeline import EventKind

RECENT = 10  # closed cases shown


async def home_facts(ctx: Context, open_cases: Sequence[OpenEntry]) -> HomeFacts:
    async with ctx.db.read() as session:
        open_alerts = [alert_of(row) for row in await alerts.open_alerts(session)]
        last_seen = await syslog_counts.last_seen_all(session)
        probes = await timeline.latest_by_appliance(session, EventKind.PROBES)
        closed = await cases.recently_closed(session, RECENT)
    open_of = {entry.view.appliance: entry.view.case_id for entry in open_cases}
    alerted: dict[str, list[Condition]] = defaultdict(list)
    for alert in open_alerts:  # a fleet alert's sensors are marked too
        for name in alert.members if alert.fleet else (alert.appliance,):
            alerted[name].append(alert.condition)
    health = []
    for appliance in ctx.inventory.appliances:
        probed = probes.get(appliance.name)
        health.append(
            ApplianceHealth(
                appliance=appliance.name,
                last_detection=last_seen.get(appliance.name),
                has_feed=bool(appliance.syslog_ids),
                probes_ok=bool(probed[1].get("ok")) if probed else None,
                probed_at=probed[0] if probed else None,
                open_case=open_of.get(appliance.name),
                alerts=tuple(alerted.get(appliance.name, ())),
            )
        )
    recent = [(row.appliance, past_of(row)) for row in closed]
    return HomeFacts(ctx.clock(), open_cases, health, recent, open_alerts, ctx.config.silence)
