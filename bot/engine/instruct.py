"""Guided steps: a person does the step on the sensor's console. The bot queues the console
instructions once per case version (with the buttons to answer) and waits; step 2 answers
itself from the syslog feed where it can."""

from __future__ import annotations

from datetime import datetime

from bot.engine.checks import feed
from bot.engine.context import Context
from bot.engine.outbox import say
from bot.engine.reboot import INSTRUCTED, reboot_key
from bot.engine.steps import DETECTION_WINDOW, StepOutcome
from bot.guidance import instructions
from bot.presenter import CaseView
from bot.runbook import Step
from storage import cases, side_effects, timeline
from storage.timeline import EventKind


def guide_key(view: CaseView) -> str:
    return f"guide:{view.case_id}:{view.version}"


async def instruct(ctx: Context, view: CaseView, which: Step) -> StepOutcome | None:
    """Queue the console actions for ``which``; a result only when the feed answers step 2."""
    if which == Step.DETECTION_QUERY:
        fed = await feed(ctx, view)
        if fed is not None:
            return fed
    appliance = ctx.appliance(view.appliance)
    now = ctx.clock()
    period = (now - DETECTION_WINDOW, now)
    message = instructions(
        view,
        which,
        ctx.style,
        console=appliance.console if appliance else None,
        capture_interface=appliance.capture_interface if appliance else None,
        period=period,
        upload_limit_mb=ctx.config.max_upload_mb,
        tz=ctx.config.tz,
    )
    async with ctx.db.write() as session:
        row = await cases.lock(session, view.case_id)
        if row is None or row.version != view.version:
            return None  # moved on: these instructions are no longer wanted
        queued = await say(session, row, message, now, key=guide_key(view))
        if not queued:
            return None  # posted before (a restart, a second /ddi-check)
        if which == Step.REBOOT:
            key = reboot_key(view)
            effect_id = await side_effects.record(session, row.id, "reboot", key, now)
            if effect_id is not None:
                await side_effects.complete(session, effect_id, INSTRUCTED, now)
                data = {"key": key, "version": view.version}
                await timeline.add_event(session, row.id, EventKind.REBOOT_RECORDED, data, now)
        else:
            await timeline.start_step_run(session, row.id, which.value, now)
        posted: dict[str, object] = {"version": view.version, "step": which.value}
        if which == Step.DETECTION_QUERY:
            posted.update(start=period[0].isoformat(), end=period[1].isoformat())
        await timeline.add_event(session, row.id, EventKind.GUIDE_POSTED, posted, now)
    ctx.wake.outbox.set()
    return None


async def period(ctx: Context, view: CaseView) -> tuple[datetime, datetime]:
    """The period step 2's instructions asked the person to query (at ``view.version``)."""
    async with ctx.db.read() as session:
        events = await timeline.events(session, view.case_id)
    for event in reversed(events):
        data = event.data
        posted = event.kind == EventKind.GUIDE_POSTED and data.get("version") == view.version
        if posted and "start" in data and "end" in data:
            return datetime.fromisoformat(data["start"]), datetime.fromisoformat(data["end"])
    now = ctx.clock()
    return now - DETECTION_WINDOW, now
