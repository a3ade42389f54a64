"""The facts ``/ddi-check status <appliance>`` shows: the bot's probes run now, the syslog
feed, the open case and the latest ones (its text is ``bot.status``)."""

from __future__ import annotations

from datetime import timedelta

from bot.engine.checks import probe_appliance
from bot.engine.context import Context
from bot.engine.feed import usual_per_day
from bot.engine.unit import past_of, view_of
from bot.inventory import Appliance
from bot.listing import OpenEntry, deadlines
from bot.status import ApplianceStatus, FeedHealth
from storage import cases, syslog_counts, timers

DAY = timedelta(days=1)
WEEK = timedelta(days=7)


async def appliance_status(ctx: Context, appliance: Appliance) -> ApplianceStatus:
    now = ctx.clock()
    probes = None
    if appliance.console or appliance.tmsp_servers:
        probes = await probe_appliance(ctx, appliance)
    async with ctx.db.read() as session:
        row = await cases.open_case_for(session, appliance.name)
        pending = await timers.pending(session, row.id) if row is not None else ()
        past = await cases.past_cases(session, appliance.name, 1)
        week = await cases.opened_since(session, appliance.name, now - WEEK)
        last_seen = last_day = None
        if appliance.syslog_ids:
            last_seen = await syslog_counts.last_seen(session, appliance.name)
            last_day = await syslog_counts.total(session, appliance.name, now - DAY, now)
    open_case = None
    if row is not None:
        until = deadlines(pending, {row.id: row.version}).get(row.id)
        open_case = OpenEntry(view_of(row), row.opened_at, until)
    last_case = past_of(past[0]) if past else None
    feed = None
    if appliance.syslog_ids:
        usual = await usual_per_day(ctx.db.sessions, appliance, now)
        feed = FeedHealth(last_seen, last_day or 0, usual[0] if usual else None)
    return ApplianceStatus(
        appliance=appliance.name,
        site=appliance.site,
        at=now,
        probes=probes,
        feed=feed,
        open_case=open_case,
        last_case=last_case,
        cases_week=week,
        silence=ctx.config.silence,
    )
