"""The reboot, the one side effect that must never happen twice: recorded (with a once-only
key, in a transaction that checks the case still waits for exactly this reboot) before it is
sent or before a person is told to do it; after a crash, what became of it decides what
follows, never a blind retry. Also the probe that watches the sensor come back."""

from __future__ import annotations

import logging

from bot.engine.context import Context
from bot.engine.steps import StepOutcome
from bot.errors import ConfigError, DriverError
from bot.i18n import t
from bot.presenter import CaseView, Message
from bot.runbook import Phase, Step
from bot.runbook.messages import (
    ApplianceProbed,
    Observation,
    RebootInterrupted,
    RebootSent,
    StepFailed,
)
from storage import cases, side_effects, timeline
from storage.timeline import EventKind

log = logging.getLogger(__name__)
INSTRUCTED = "instructed"  # a person was told to reboot it (guided)
SENT = "sent"
# a reboot request that failed this way may have reached the sensor anyway (an answer that
# never came): it is neither "sent" nor "failed", and the approver is asked to look first
MAYBE_SENT = frozenset({"timeout"})


def reboot_key(view: CaseView) -> str:
    """Once-only key of the reboot attempt the current approval allows."""
    return f"reboot:{view.case_id}:{view.state.reboot_attempts}"


async def send(ctx: Context, view: CaseView) -> StepOutcome | None:
    """Send the approved reboot through the driver; None if the case moved on."""
    key = reboot_key(view)
    async with ctx.db.write() as session:
        if not await cases.hold(session, view.case_id, view.version, Phase.REBOOTING):
            log.warning("case %s: moved on; reboot %s not sent", view.case_id, key)
            return None
        effect_id = await side_effects.record(session, view.case_id, "reboot", key, ctx.clock())
        decision = await cases.decision_for(session, view.case_id, view.version - 1)
        if effect_id is not None:
            data = {"key": key, "version": view.version}
            await timeline.add_event(
                session, view.case_id, EventKind.REBOOT_RECORDED, data, ctx.clock()
            )
    if effect_id is None:  # whoever recorded it reports its outcome; never a second one
        log.error("case %s: reboot %s already recorded; not sending again", view.case_id, key)
        return None
    try:
        driver = ctx.step_driver(view.appliance)
        async with ctx.limits.steps:
            await driver.reboot()
    except ConfigError as exc:  # the inventory changed since the approval: nothing was sent
        async with ctx.db.write() as session:
            await side_effects.complete(session, effect_id, "failed: config", ctx.clock())
        log.error("case %s: reboot %s not sent: %s", view.case_id, key, exc.detail)
        return StepOutcome(StepFailed(Step.REBOOT, "config"), None, {"error": "config"}, "failed")
    except DriverError as exc:
        if exc.code in MAYBE_SENT:  # it may have reached the sensor: a person must look
            log.warning("case %s: reboot %s outcome unknown: %s", view.case_id, key, exc.code)
            return StepOutcome(RebootInterrupted(), None, {"key": key, "error": exc.code}, "failed")
        async with ctx.db.write() as session:
            await side_effects.complete(session, effect_id, f"failed: {exc.code}", ctx.clock())
        return StepOutcome(StepFailed(Step.REBOOT, exc.code), None, {"error": exc.code}, "failed")
    except Exception:  # a driver bug: the outcome is unknown, so it is never sent again
        log.exception("case %s: reboot %s failed unexpectedly", view.case_id, key)
        return StepOutcome(RebootInterrupted(), None, {"key": key, "error": "internal"}, "failed")
    sent = ctx.clock()
    async with ctx.db.write() as session:
        await side_effects.complete(session, effect_id, SENT, sent)
    approver = decision.user_id if decision is not None else "?"
    text = t(view.lang, "result.reboot.sent", user=ctx.style.mention(approver))
    return StepOutcome(RebootSent(sent.timestamp()), Message(text), {"key": key}, "ok")


async def after_crash(ctx: Context, view: CaseView) -> Observation:
    """What became of a reboot the bot was sending when it stopped (it is still REBOOTING)."""
    async with ctx.db.read() as session:
        effect = await side_effects.get(session, reboot_key(view))
    if effect is None or effect.completed_at is None or effect.outcome is None:
        return RebootInterrupted()  # unknown: a person decides, never a blind retry
    if effect.outcome == SENT:
        return RebootSent(effect.completed_at.timestamp())
    return StepFailed(Step.REBOOT, effect.outcome.removeprefix("failed: "))


async def probe(ctx: Context, view: CaseView) -> ApplianceProbed:
    """Whether the rebooted sensor answers again (any failure: not back, as far as we know)."""
    appliance = ctx.appliance(view.appliance)
    up = False
    if appliance is not None:
        try:
            async with ctx.limits.steps:
                up = await ctx.drivers.get(appliance).is_up()
        except Exception as exc:  # e.g. a TLS failure: not back, as far as we can tell
            log.warning("case %s: probe failed: %s", view.case_id, exc)
    return ApplianceProbed(up, ctx.clock().timestamp())
