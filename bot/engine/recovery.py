"""After a restart: pick up every open case where it stood. Messages need nothing here: the
outbox still holds whatever was not delivered."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.engine import reboot
from bot.engine.context import Context
from bot.engine.narration import prompt_key
from bot.engine.outbox import say
from bot.engine.unit import Applied, apply, step_of, view_of
from bot.engine.work import Work
from bot.presenter import CaseView, prompt
from bot.runbook import CaseState, Phase
from bot.runbook.messages import CheckNetwork, Instruct, RunStep, ThreadFailed, TimerKind
from bot.runbook.model import AWAITING, RUNNING
from storage import cases, outbox, timers

log = logging.getLogger(__name__)
_WAITING_TIMER = {
    Phase.RECHECK_WAIT: TimerKind.RECHECK,
    Phase.WAIT_FOR_DOWN: TimerKind.POLL_APPLIANCE,
    Phase.WAIT_FOR_BACK: TimerKind.POLL_APPLIANCE,
}


@dataclass(frozen=True)
class Resumed:
    """What picks a case up again: ``recorded`` was written down by a unit of work (a job
    queue holds it already); ``fresh`` was not (it must be handed out)."""

    recorded: tuple[Work, ...] = ()
    fresh: tuple[Work, ...] = ()


async def resume(ctx: Context) -> tuple[int, list[Resumed]]:
    """How many cases are open, and the work that picks each up again: re-run an interrupted
    step (steps 1-4 only read from the sensor), make sure a person was told what to do,
    settle a reboot that was being sent, re-arm a wait whose timer was lost."""
    async with ctx.db.read() as session:
        rows = list(await cases.open_cases(session))
    work: list[Resumed] = []
    for row in rows:
        try:
            work.append(await resume_one(ctx, view_of(row)))
        except Exception:
            log.exception("case %s: could not be resumed", row.id)
    return len(rows), work


def has_work(phase: Phase) -> bool:
    """A case in this phase is moved on by the bot's own work (not a person, not a timer)."""
    return phase in RUNNING or phase in (Phase.REBOOT_INSTRUCTED, Phase.REBOOTING)


async def resume_one(ctx: Context, view: CaseView) -> Resumed:
    state = view.state
    refused = await _thread_refused(ctx, view)
    if refused is not None:
        await apply(ctx, view.case_id, view.version, ThreadFailed(refused))
        return Resumed()
    if state.phase == Phase.REBOOTING:
        obs = await reboot.after_crash(ctx, view)
        applied = await apply(ctx, view.case_id, view.version, obs)
        return Resumed(recorded=applied.work) if isinstance(applied, Applied) else Resumed()
    which = step_of(state)
    if state.phase in RUNNING or state.phase == Phase.REBOOT_INSTRUCTED:
        assert which is not None
        effect = Instruct(which) if state.person_step() is not None else RunStep(which)
        first = (Work(view, CheckNetwork()),) if view.version == 1 else ()
        return Resumed(fresh=(*first, Work(view, effect)))
    if state.phase in AWAITING:
        await _ensure_question(ctx, view, state)
    if state.phase in _WAITING_TIMER:
        await _ensure_timer(ctx, view, _WAITING_TIMER[state.phase])
    return Resumed()


async def _ensure_question(ctx: Context, view: CaseView, state: CaseState) -> None:
    """A question is queued with the transition that asks it; a case from before the outbox
    (an upgrade) may have none: queue it once."""
    async with ctx.db.write() as session:
        if await outbox.by_key(session, prompt_key(view)) is not None:
            return
        row = await cases.lock(session, view.case_id)
        if row is None or row.version != view.version:
            return
        question = prompt(view, AWAITING[state.phase], ctx.style)
        await say(session, row, question, ctx.clock(), key=prompt_key(view))
    ctx.wake.outbox.set()


async def _ensure_timer(ctx: Context, view: CaseView, kind: TimerKind) -> None:
    """The wait's own timer, for this case version (an older timer, say the expiry of the
    approval that led here, does not count: it will be spent, not fired)."""
    async with ctx.db.write() as session:
        pending = await timers.pending(session, view.case_id)
        if not any(t.kind == kind.value and t.case_version == view.version for t in pending):
            await timers.add_timer(session, view.case_id, kind.value, view.version, ctx.clock())
    ctx.wake.timers.set()


async def _thread_refused(ctx: Context, view: CaseView) -> str | None:
    """Why the case's root message failed for good, if it did (the case is then abandoned;
    a crash may have come between the failure and the abandonment)."""
    async with ctx.db.read() as session:
        root = await outbox.root_of(session, view.case_id)
    if root is not None and root.status == outbox.FAILED:
        return root.error or "refused"
    return None
