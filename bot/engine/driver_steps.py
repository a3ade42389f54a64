"""A step the bot runs itself, through the appliance's driver: started on the timeline, run
within the step limit, its result (or why it could not run) handed back for ``apply``."""

from __future__ import annotations

import logging
import time

from bot import metrics
from bot.capture.texts import escape as capture_escape
from bot.engine.checks import feed, with_usual
from bot.engine.context import Context
from bot.engine.steps import StepContext, StepOutcome, run_step
from bot.errors import DdiBotError
from bot.presenter import CaseView, step_failed
from bot.probes import endpoint_or_none
from bot.runbook import Step
from bot.runbook.messages import StepFailed

log = logging.getLogger(__name__)


def ip_of(console: str | None) -> str | None:
    """The sensor's address when the inventory gives its console as an IP literal."""
    endpoint = endpoint_or_none(console)
    return endpoint.host if endpoint is not None and endpoint.is_ip else None


def step_context(ctx: Context, view: CaseView) -> StepContext:
    appliance = ctx.appliance(view.appliance)
    return StepContext(
        view=view,
        style=ctx.style,
        now=ctx.clock(),
        capture_seconds=ctx.config.capture_seconds,
        artifacts=ctx.config.artifacts,
        sensor_ip=ip_of(appliance.console) if appliance else None,
        tz=ctx.config.tz,
        analyses=ctx.limits.analyses,
    )


async def run_driver_step(ctx: Context, view: CaseView, which: Step) -> StepOutcome | None:
    """Steps 1-4 by the driver (step 2 from the syslog feed when it can answer). Never raises:
    surprises become ``StepFailed``. (A step of a case that moved on meanwhile still runs:
    they only read; its result is dropped.)"""
    fed = await feed(ctx, view) if which == Step.DETECTION_QUERY else None
    if fed is not None:
        return fed
    async with ctx.limits.steps:
        outcome = await _attempt(ctx, view, which)
    if isinstance(outcome.observation, StepFailed):
        # a refused capture says why (zip bomb, not a capture, ...): the operator can act
        code = outcome.observation.code
        detail = outcome.record.get("detail") if code == "capture" else None
        shown = capture_escape(str(detail)) if detail else None
        return StepOutcome(
            outcome.observation,
            step_failed(view.lang, which, code, shown),
            outcome.record,
            outcome.outcome,
        )
    if which == Step.DETECTION_QUERY:
        return await with_usual(ctx, view, outcome)
    return outcome


async def _attempt(ctx: Context, view: CaseView, which: Step) -> StepOutcome:
    try:
        driver = ctx.step_driver(view.appliance)
    except DdiBotError as exc:  # the inventory or driver changed since the case opened
        log.error("case %s: no driver: %s", view.case_id, exc.detail)
        return StepOutcome(StepFailed(which, "config"), None, {"error": "config"}, "failed")
    started = time.monotonic()
    try:
        outcome = await run_step(which, driver, step_context(ctx, view))
    except Exception:
        log.exception("case %s: step %s failed unexpectedly", view.case_id, which.value)
        outcome = StepOutcome(StepFailed(which, "internal"), None, {"error": "internal"}, "failed")
    seconds = time.monotonic() - started
    metrics.STEP_SECONDS.labels(str(which.value), outcome.outcome).observe(seconds)
    return outcome
