"""A person's answers to guided steps (buttons and modals), turned into the observation a
driver would have made; each is applied once per question (the database decides)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.drivers.base import ConnectionTestResult, DetectionCount
from bot.engine.checks import with_usual
from bot.engine.context import Context
from bot.engine.driver_steps import step_context
from bot.engine.instruct import period
from bot.engine.note import Note
from bot.engine.outbox import say
from bot.engine.reboot import INSTRUCTED, SENT, reboot_key
from bot.engine.steps import connection_outcome, detections_outcome
from bot.engine.unit import Applied, Refusal, Rejected, apply, view_of
from bot.guidance import VERIFIED_TEXT
from bot.i18n import t
from bot.presenter import CaseView, Message
from bot.runbook import Step
from bot.runbook.messages import RebootSent
from storage import cases, side_effects, timeline
from storage.timeline import EventKind

MAX_SHOWN = 2000  # characters of a pasted console message or maintenance note kept


async def waiting(ctx: Context, case_id: int, version: int) -> tuple[CaseView, Step] | Rejected:
    """The step a person is doing for the case at ``version``, or why there is none."""
    async with ctx.db.read() as session:
        row = await cases.get_case(session, case_id)
    if row is None:
        return Rejected(Refusal.NOT_FOUND)
    view = view_of(row)
    which = view.state.person_step()
    if row.version != version or which is None:
        return Rejected(Refusal.STALE)
    return view, which


async def waiting_for(ctx: Context, case_id: int, version: int, which: Step) -> CaseView | Rejected:
    """The case, if a person is doing step ``which`` for it at ``version``."""
    found = await waiting(ctx, case_id, version)
    if isinstance(found, Rejected):
        return found
    view, step = found
    return view if step == which else Rejected(Refusal.STALE)


async def connection(
    ctx: Context, case_id: int, version: int, shown: str, user: str
) -> Applied | Rejected:
    """Step 1 answered: what the console's Test Connection showed."""
    view = await waiting_for(ctx, case_id, version, Step.CONNECTION_TEST)
    if isinstance(view, Rejected):
        return view
    shown = shown.strip()[:MAX_SHOWN]
    # pasted from the console, perhaps with a full stop or another case: still the success
    verified = shown.rstrip(".").casefold() == VERIFIED_TEXT.casefold()
    outcome = connection_outcome(step_context(ctx, view), ConnectionTestResult(verified, shown))
    how = "verified" if verified else "other"
    note = outcome.note(actor=user, answer=how)
    return await apply(ctx, case_id, version, outcome.observation, note)


async def count(
    ctx: Context, case_id: int, version: int, counted: int, user: str
) -> Applied | Rejected:
    """Step 2 answered with the number of detections the console's query found."""
    view = await waiting_for(ctx, case_id, version, Step.DETECTION_QUERY)
    if isinstance(view, Rejected):
        return view
    start, end = await period(ctx, view)
    outcome = detections_outcome(step_context(ctx, view), DetectionCount(counted, start, end))
    outcome = await with_usual(ctx, view, outcome)
    note = outcome.note(actor=user, answer="count")
    return await apply(ctx, case_id, version, outcome.observation, note)


async def rebooted(ctx: Context, case_id: int, version: int, user: str) -> Applied | Rejected:
    """The person rebooted the sensor as told: the reboot counts as sent from now."""
    view = await waiting_for(ctx, case_id, version, Step.REBOOT)
    if isinstance(view, Rejected):
        return view
    key = reboot_key(view)

    async def mark_sent(session: AsyncSession) -> bool:
        effect = await side_effects.get(session, key)
        if effect is None or effect.outcome != INSTRUCTED:
            return False  # the instructions were never recorded: not this reboot
        await side_effects.complete(session, effect.id, SENT, ctx.clock())
        data = {"version": version}
        await timeline.add_event(
            session, case_id, EventKind.REBOOTED_BY_PERSON, data, ctx.clock(), actor=user
        )
        return True

    note = Note(actor=user, answer="rebooted", also=mark_sent)
    return await apply(ctx, case_id, version, RebootSent(ctx.clock().timestamp()), note)


async def maintenance(ctx: Context, case_id: int, answer: str, notes: str, user: str) -> bool:
    """Whether there was network maintenance around the connection test (vendor report);
    kept even if someone else answered the step first. False if the case does not exist."""
    now = ctx.clock()
    async with ctx.db.write() as session:
        row = await cases.lock(session, case_id)
        if row is None:
            return False
        data = {"answer": answer, "notes": notes[:MAX_SHOWN]}
        await timeline.add_event(session, case_id, EventKind.MAINTENANCE, data, now, actor=user)
        lang = row.lang
        shown = f" — {ctx.style.escape(notes[:MAX_SHOWN])}" if notes.strip() else ""
        text = t(
            lang,
            "guide.maintenance.recorded",
            answer=t(lang, f"modal.maintenance.{answer}"),
            notes=shown,
        )
        await say(session, row, Message(text), now)
    ctx.wake.outbox.set()
    return True
