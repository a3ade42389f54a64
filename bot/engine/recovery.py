"""After a restart: pick up every open case where it stood, and say what was left unsaid."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from bot.engine.executor import reboot_key
from bot.engine.guide import INSTRUCTED
from bot.runbook import CaseState, Outcome, Phase, Step
from bot.runbook.messages import (
    Observation,
    RebootInterrupted,
    RebootSent,
    RunStep,
    StepFailed,
    TimerKind,
)
from bot.runbook.model import AWAITING, RUNNING
from storage import cases, side_effects, timeline, timers

if TYPE_CHECKING:
    from bot.engine.core import Engine

ANNOUNCE_WITHIN = timedelta(days=7)  # closing messages older than this are not re-posted
_WAITING_TIMER = {
    Phase.RECHECK_WAIT: TimerKind.RECHECK,
    Phase.WAIT_FOR_APPLIANCE: TimerKind.POLL_APPLIANCE,
}


async def resume(engine: Engine) -> int:
    """Re-run interrupted steps, re-ask unposted questions, re-arm lost timers; count cases."""
    from bot.engine.core import thread_of, view_of

    executor = engine.executor
    async with engine.sessions() as session:
        rows = list(await cases.open_cases(session))
        unannounced = list(
            await cases.closed_unannounced(session, engine.clock() - ANNOUNCE_WITHIN)
        )
    for row in rows:
        state = CaseState.from_json(row.state)
        view, thread = view_of(row, state, row.version), thread_of(row)
        name = f"resume-{row.id}"
        if state.phase in RUNNING:  # steps 1-4 only read from the sensor: safe to run again
            engine.tasks.spawn(executor.run(view, thread, (RunStep(RUNNING[state.phase]),)), name)
        elif state.phase == Phase.REBOOTING:
            obs = await reboot_outcome(engine, view.case_id, reboot_key(view))
            if obs is None:  # a person was told to reboot it: make sure they were
                engine.tasks.spawn(engine.guide.instruct(view, thread, Step.REBOOT), name)
            else:
                engine.tasks.spawn(engine.observe(row.id, row.version, obs), name)
        if state.phase in AWAITING:
            async with engine.sessions() as session:
                posted = await timeline.has_event(session, row.id, "prompt_posted", row.version)
            if not posted:
                engine.tasks.spawn(executor.ask(view, thread), f"{name}-ask")
        if state.phase in _WAITING_TIMER:
            async with engine.sessions.begin() as session:
                if not await timers.pending(session, row.id):
                    kind = _WAITING_TIMER[state.phase].value
                    await timers.add_timer(session, row.id, kind, row.version, engine.clock())
            engine.timers_changed.set()
    for row in unannounced:
        state = CaseState.from_json(row.state)
        outcome = state.outcome or Outcome.ESCALATED
        view, thread = view_of(row, state, row.version), thread_of(row)
        engine.tasks.spawn(executor.announce_close(view, thread, outcome), f"announce-{row.id}")
    return len(rows)


async def reboot_outcome(engine: Engine, case_id: int, key: str) -> Observation | None:
    """What became of a reboot the bot was sending when it stopped."""
    async with engine.sessions() as session:
        effect = await side_effects.get(session, key)
    if effect is None or effect.completed_at is None or effect.outcome is None:
        return RebootInterrupted()  # unknown: a person decides, never a blind retry
    if effect.outcome == INSTRUCTED:
        return None  # waiting for the person to press "Rebooted"
    if effect.outcome == "sent":
        return RebootSent(effect.completed_at.timestamp())
    return StepFailed(Step.REBOOT, effect.outcome.removeprefix("failed: "))
