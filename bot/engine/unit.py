"""The one way a case changes: ``apply`` (and ``admit`` for a new case).

One unit of work, in one transaction: load the case, the pure ``runbook.step``, a
compare-and-swap on the case version, the decision or answer (once per question, enforced by
the database), timeline events, timers, and every message the change shows people (outbox
rows). Whatever must run afterwards (a step, instructions, a probe) comes back as ``work``, and is
handed to ``ctx.record_work`` in the same transaction (a job queue writes it down there).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import casefile, metrics
from bot.engine.alert_rows import fleet_alert_of
from bot.engine.context import Context
from bot.engine.export import case_record
from bot.engine.narration import narrate, opening, prompt_key
from bot.engine.note import Note
from bot.engine.outbox import queue, row_of
from bot.engine.work import Work
from bot.inventory import Inventory
from bot.listing import PastCase
from bot.messenger import Attachment
from bot.presenter import CaseView
from bot.report import ReportFacts, facts_from
from bot.runbook import CaseState, DecisionPoint, InvalidTransition, Phase, Step
from bot.runbook import start as start_runbook
from bot.runbook import step as runbook_step
from bot.runbook.evidence import evidence
from bot.runbook.machine import Decision as Transition
from bot.runbook.messages import (
    Ask,
    CarryTimers,
    CheckNetwork,
    Close,
    Decided,
    Effect,
    Instruct,
    Observation,
    ProbeAppliance,
    Remind,
    RunStep,
    StartTimer,
    TimerKind,
)
from bot.runbook.model import AWAITING, RUNNING
from storage import cases, outbox, timeline, timers
from storage.models import CaseRow
from storage.timeline import EventKind


@dataclass(frozen=True)
class Applied:
    before: CaseView
    after: CaseView
    work: tuple[Work, ...]
    point: DecisionPoint | None = None  # the question that was answered, if one was


RECENT = timedelta(days=7)  # a new case's root message counts the appliance's cases this far


class Refusal(StrEnum):
    NOT_FOUND = "not_found"
    STALE = "stale"  # the case moved on since the observation was made
    INVALID = "invalid"  # the runbook does not expect this observation now
    DECIDED = "decided"  # someone answered this question first
    ALREADY_OPEN = "already_open"  # admit: the appliance has an open case
    ROLLED_BACK = "rolled_back"  # the note's own writes refused the unit


@dataclass(frozen=True)
class Rejected:
    reason: Refusal
    choice: str | None = None  # DECIDED: what was decided, and by whom
    user: str | None = None


class _Abort(Exception):
    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


def view_of(row: CaseRow, state: CaseState | None = None, version: int | None = None) -> CaseView:
    return CaseView(
        row.id,
        row.appliance,
        row.requested_by,
        row.lang,
        state if state is not None else CaseState.from_json(row.state),
        row.version if version is None else version,
        row.recent_cases or 1,
    )


def past_of(row: CaseRow) -> PastCase:
    """A closed case as the listings show it."""
    return PastCase(row.id, row.opened_at, row.closed_at, row.outcome, row.state.get("reason"))


def step_of(state: CaseState) -> Step | None:
    """The step a case is running or waiting on (the reboot while it is sent or done)."""
    if state.phase in (Phase.REBOOTING, Phase.REBOOT_INSTRUCTED):
        return Step.REBOOT
    return RUNNING.get(state.phase)


def _work(view: CaseView, effects: tuple[Effect, ...]) -> tuple[Work, ...]:
    return tuple(
        Work(view, e)
        for e in effects
        if isinstance(e, RunStep | Instruct | CheckNetwork | ProbeAppliance)
    )


@dataclass(frozen=True)
class Admission:
    """A /ddi-check to record: which appliance, for whom, where."""

    appliance: str
    guided: bool
    user: str
    channel: str
    lang: str
    reply_url: str | None = None


async def admit(ctx: Context, **request: Any) -> Applied | Rejected:
    """Record a new case and its root message; ``ALREADY_OPEN`` if the appliance has one."""
    (result,) = await admit_many(ctx, [Admission(**request)])
    return result


async def admit_many(ctx: Context, requests: Sequence[Admission]) -> list[Applied | Rejected]:
    """Record new cases and their root messages in one transaction (a burst of checks is one
    commit, not hundreds); each is ``ALREADY_OPEN`` if its appliance has an open case (two
    checks of one appliance in the batch: the first one counts)."""
    now = ctx.clock()
    first: dict[str, int] = {}
    for index, request in enumerate(requests):
        first.setdefault(request.appliance, index)
    begun = {guided: start_runbook(guided) for guided in {r.guided for r in requests}}
    begun_json = {guided: transition.state.to_json() for guided, transition in begun.items()}
    opened: dict[str, CaseView] = {}
    async with ctx.db.write() as session:
        earlier = await cases.opened_counts(session, list(first), now - RECENT)
        ids = await cases.create_cases(
            session,
            [
                {
                    "appliance": r.appliance,
                    "requested_by": r.user,
                    "lang": r.lang,
                    "phase": begun[r.guided].state.phase.value,
                    "state": begun_json[r.guided],
                    "channel": r.channel,
                    "opened_at": now,
                    "reply_url": r.reply_url,
                    "recent_cases": earlier.get(r.appliance, 0) + 1,
                }
                for r in (requests[index] for index in first.values())
            ],
        )
        events: list[dict[str, Any]] = []
        runs: list[dict[str, Any]] = []
        rows: list[dict[str, Any]] = []
        for appliance, case_id in ids.items():
            request = requests[first[appliance]]
            state = begun[request.guided].state
            recent = earlier.get(appliance, 0) + 1
            view = CaseView(case_id, appliance, request.user, request.lang, state, 1, recent)
            opened[appliance] = view
            events.append(_event(case_id, EventKind.CASE_OPENED, {}, now, request.user))
            started_runs, started_events = _starts(case_id, 1, begun[request.guided].effects, now)
            runs += started_runs
            events += started_events
            for item in opening(view, ctx.style):
                row = row_of(item, case_id, request.channel, request.reply_url)
                if row is not None:
                    rows.append(row)
        await timeline.add_events(session, events)
        await timeline.start_step_runs(session, runs)
        await outbox.add_many(session, rows, now)
        work = {
            appliance: _work(view, begun[requests[first[appliance]].guided].effects)
            for appliance, view in opened.items()
        }
        await ctx.record_work(session, [item for items in work.values() for item in items])
    if opened:
        ctx.wake.outbox.set()
    results: list[Applied | Rejected] = []
    for index, request in enumerate(requests):
        view_or_none = opened.get(request.appliance) if first[request.appliance] == index else None
        if view_or_none is None:
            results.append(Rejected(Refusal.ALREADY_OPEN))
        else:
            results.append(Applied(view_or_none, view_or_none, work[request.appliance]))
    return results


def _event(
    case_id: int, kind: EventKind, data: dict[str, Any], at: datetime, actor: str | None = None
) -> dict[str, Any]:
    return {"case_id": case_id, "kind": kind, "data": data, "at": at, "actor": actor}


def _starts(
    case_id: int, version: int, effects: tuple[Effect, ...], now: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A step the bot runs starts with the transition that asks for it (its run is finished
    by the transition its result causes; a late result finds the case moved on): its step
    run and event."""
    runs, events = [], []
    for effect in effects:
        if isinstance(effect, RunStep) and effect.step != Step.REBOOT:
            runs.append({"case_id": case_id, "step": effect.step.value, "started_at": now})
            data = {"step": effect.step.value, "version": version}
            events.append(_event(case_id, EventKind.STEP_STARTED, data, now))
    return runs, events


async def apply(
    ctx: Context, case_id: int, version: int, obs: Observation, note: Note | None = None
) -> Applied | Rejected:
    """Apply ``obs``, made while the case was at ``version``, as one unit of work."""
    note = note or Note()
    try:
        applied = await _apply(ctx, case_id, version, obs, note)
    except _Abort as abort:
        answering = isinstance(obs, Decided) or note.answer is not None
        if not answering or abort.reason not in (Refusal.DECIDED, Refusal.STALE):
            return Rejected(abort.reason)
        return await answered(ctx, case_id, version)
    ctx.wake.outbox.set()
    if any(isinstance(w, StartTimer) for w in applied[1]):
        ctx.wake.timers.set()
    _count(applied[0], obs, applied[1])
    return applied[0]


async def answered(ctx: Context, case_id: int, version: int) -> Rejected:
    """Why an answer to the question asked at ``version`` is refused: who answered it first
    (``DECIDED``), or ``STALE`` when nobody did (the case moved on without it)."""
    async with ctx.db.read() as session:
        found = await cases.decision_for(session, case_id, version)
    if found is None:
        return Rejected(Refusal.STALE)
    return Rejected(Refusal.DECIDED, found.choice, found.user_id)


def _count(applied: Applied, obs: Observation, effects: tuple[Effect, ...]) -> None:
    """The metrics of a committed transition: a decision, a closing."""
    if isinstance(obs, Decided):
        point = applied.point.value if applied.point else "stop"
        metrics.DECISIONS.labels(point, obs.choice.value).inc()
    for effect in effects:
        if isinstance(effect, Close):
            metrics.CASES_CLOSED.labels(effect.outcome.value).inc()


async def _apply(
    ctx: Context, case_id: int, version: int, obs: Observation, note: Note
) -> tuple[Applied, tuple[Effect, ...]]:
    now = ctx.clock()
    async with ctx.db.write() as session:
        if note.timer_id is not None and not await timers.claim(session, note.timer_id, now):
            raise _Abort(Refusal.STALE)  # fired before, by this process or another
        row = await cases.get_case(session, case_id)
        if row is None:
            raise _Abort(Refusal.NOT_FOUND)
        if row.version != version:
            raise _Abort(Refusal.STALE)
        state = CaseState.from_json(row.state)
        try:
            transition = runbook_step(state, obs, ctx.config.timing)
        except InvalidTransition:
            raise _Abort(Refusal.INVALID) from None
        point = AWAITING.get(state.phase)
        await _record_answer(session, row, state, obs, note, point, now)
        new = transition.state
        notice = transition.is_notice(state)
        if notice:  # a reminder: the case stays as it is, at its version
            if not await cases.hold(session, case_id, version, state.phase.value):
                raise _Abort(Refusal.STALE)
        elif not await cases.advance_case(
            session,
            case_id,
            expected_version=version,
            phase=new.phase.value,
            state=new.to_json(),
            closed=new.phase.closed,
            outcome=new.outcome.value if new.outcome else None,
            now=now,
        ):
            raise _Abort(Refusal.STALE)  # another process advanced it first
        after_version = version if notice else version + 1
        if isinstance(obs, Decided) and note.shown not in (None, version):
            # answered on an older copy of the question (same evidence): the question shown as
            # decided is the one this answer counts for, if it is out yet
            asked = await outbox.by_key(session, prompt_key(view_of(row, state, version)))
            note = replace(note, clicked=asked.ts if asked is not None else None)
        carried = any(isinstance(e, CarryTimers) for e in transition.effects)
        shows_expiry = notice or carried  # the question's deadline, unchanged
        before, after = view_of(row, state, version), view_of(row, new, after_version)
        await _record(session, case_id, after_version, state, transition, obs, note, now)
        closing = await _closing(session, ctx.inventory, row, transition)
        items = narrate(
            before,
            after,
            obs,
            transition.effects,
            note,
            now=now,
            style=ctx.style,
            facts=closing.facts,
            reboots=closing.reboots,
            files=closing.files,
            approvers=_reminded(ctx, row, new),
            expires=await _expiry(session, case_id, after_version) if shows_expiry else None,
            fleet=await fleet_alert_of(session, row.appliance)
            if _asks_reboot(transition)
            else None,
        )
        await queue(
            session,
            case_id=case_id,
            channel=row.channel or "",
            reply_url=row.reply_url,
            items=items,
            now=now,
        )
        if note.also is not None and not await note.also(session):
            raise _Abort(Refusal.ROLLED_BACK)
        work = _work(after, transition.effects)
        await ctx.record_work(session, work)
    applied = Applied(before, after, work, point)
    return applied, transition.effects


async def _record_answer(
    session: AsyncSession,
    row: CaseRow,
    state: CaseState,
    obs: Observation,
    note: Note,
    point: DecisionPoint | None,
    now: datetime,
) -> None:
    """A decision or a person's answer: the first one for this case version wins."""
    if isinstance(obs, Decided):
        label, choice, user = point.value if point else "stop", obs.choice.value, obs.user
    elif note.answer is not None:
        which = step_of(state) or state.file_step()
        label = f"step_{which.value if which else 0}"
        choice, user = note.answer, note.actor or "?"
    else:
        return
    recorded = await cases.record_decision(
        session,
        case_id=row.id,
        case_version=row.version,
        point=label,
        choice=choice,
        user_id=user,
        now=now,
    )
    if not recorded:
        raise _Abort(Refusal.DECIDED)


async def _record(
    session: AsyncSession,
    case_id: int,
    version: int,
    old: CaseState,
    transition: Transition,
    obs: Observation,
    note: Note,
    now: datetime,
) -> None:
    """The timeline of the transition (one statement for all its events), its step runs and
    its timers."""
    new = transition.state
    events: list[dict[str, Any]] = []
    if isinstance(obs, Decided):
        point = AWAITING.get(old.phase)
        data: dict[str, Any] = {
            "point": point.value if point else None,
            "choice": obs.choice.value,
        }
        if point == DecisionPoint.REBOOT:  # what the approver decided on
            data |= {"version": version - 1, "evidence": evidence(old)}
            if note.shown is not None and note.shown != version - 1:
                data["shown"] = note.shown  # the question read: older, on the same evidence
        events.append(_event(case_id, EventKind.DECISION, data, now, obs.user))
    if note.record is not None:
        which = step_of(old) or old.file_step()  # a late bundle answers step 4
        outcome = note.outcome or "ok"
        record = dict(note.record)
        if note.answer is not None:
            record["by"] = note.answer
        if which is not None:
            await timeline.finish_open_step_run(session, case_id, which.value, outcome, record, now)
        data = {"step": which.value if which else None, "outcome": outcome, **record}
        events.append(_event(case_id, EventKind.STEP_RESULT, data, now, note.actor))
    if old.phase != new.phase:
        data = {"from": old.phase.value, "to": new.phase.value}
        events.append(_event(case_id, EventKind.PHASE, data, now))
    for effect in transition.effects:
        if isinstance(effect, StartTimer):
            due = now + timedelta(seconds=effect.delay)
            await timers.add_timer(session, case_id, effect.kind.value, version, due)
            data = {"kind": effect.kind.value, "due": due.isoformat()}
            events.append(_event(case_id, EventKind.TIMER_SET, data, now))
        elif isinstance(effect, CarryTimers):
            await timers.carry(session, case_id, version - 1, version, _QUESTION_TIMERS)
        elif isinstance(effect, Remind):
            data = {"point": effect.point.value}
            events.append(_event(case_id, EventKind.REMINDED, data, now))
        elif isinstance(effect, Close):
            data = {"outcome": effect.outcome.value, "reason": new.reason}
            events.append(_event(case_id, EventKind.CASE_CLOSED, data, now))
    runs, started = _starts(case_id, version, transition.effects, now)
    await timeline.start_step_runs(session, runs)
    await timeline.add_events(session, events + started)


_QUESTION_TIMERS = (TimerKind.APPROVAL_EXPIRY.value, TimerKind.APPROVAL_REMINDER.value)


async def _expiry(session: AsyncSession, case_id: int, version: int) -> datetime | None:
    """When the question asked at ``version`` expires (its timer), for a reminder to say."""
    for timer in await timers.pending(session, case_id):
        if timer.kind == TimerKind.APPROVAL_EXPIRY.value and timer.case_version == version:
            return timer.due_at
    return None


def _asks_reboot(transition: Transition) -> bool:
    return any(isinstance(e, Ask) and e.point == DecisionPoint.REBOOT for e in transition.effects)


def _reminded(ctx: Context, row: CaseRow, state: CaseState) -> tuple[str, ...]:
    """Who a reminder names: the approvers who have not approved yet, but not whoever opened
    the case when they may not approve it (the two-person rule)."""
    return tuple(
        a
        for a in sorted(ctx.config.approvers)
        if a not in state.approved_by and not (ctx.config.two_person and a == row.requested_by)
    )


@dataclass(frozen=True)
class _Closing:
    """What closing a case shows: the vendor report's facts, the reboots sent, the case file."""

    facts: ReportFacts | None = None
    reboots: int = 0
    files: tuple[Attachment, ...] = ()


async def _closing(
    session: AsyncSession, inventory: Inventory, row: CaseRow, transition: Transition
) -> _Closing:
    """Read from the timeline (this transition's events included) when the case closes."""
    if not any(isinstance(e, Close) for e in transition.effects):
        return _Closing()
    record = await case_record(session, inventory, row.id)
    assert record is not None
    facts = facts_from([(event.kind, event.data) for event in record.events])
    sent = sum(1 for reboot in record.reboots if reboot.outcome == "sent")
    threaded = bool(row.thread_ts)  # no thread, no place for the case file
    return _Closing(facts, sent, casefile.attachments(record) if threaded else ())
