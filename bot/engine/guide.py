"""Guided steps: the bot posts what a person must do on the console, then waits for the answer
(a button, a modal, or a file posted in the thread) and feeds it to the runbook.

An answer is taken at most once per step: it is recorded like a decision, with the unique
(case, version) constraint, in the same transaction that advances the case.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.drivers.base import ConnectionTestResult, DetectionCount
from bot.engine.steps import (
    DETECTION_WINDOW,
    StepOutcome,
    connection_outcome,
    detections_outcome,
)
from bot.errors import AlreadyDecided, CaseNotFound, DdiBotError, NotOperator
from bot.guidance import VERIFIED_TEXT, instructions
from bot.i18n import t
from bot.inventory import Appliance
from bot.notifier import Thread
from bot.presenter import CaseView, Message
from bot.runbook import CaseState, Phase, Step
from bot.runbook import step as runbook_step
from bot.runbook.messages import RebootSent
from bot.runbook.model import RUNNING
from storage import cases, side_effects, timeline

if TYPE_CHECKING:
    from bot.engine.core import Engine

RETRY_PAUSES = (1.0, 5.0)  # seconds between attempts to post instructions when Slack fails
MAX_SHOWN = 2000  # characters of a pasted console message or maintenance note kept
GUIDED = "guided"
INSTRUCTED = "instructed"  # a reboot's side effect once the person was told to do it


class Superseded(Exception):
    """The case is no longer waiting for this answer."""


def is_guided(appliance: Appliance) -> bool:
    return appliance.driver == GUIDED


def guided_case(engine: Engine, view: CaseView) -> bool:
    """Whether a person does this case's steps (its appliance may have left the inventory)."""
    try:
        return is_guided(engine.inventory.get(view.appliance))
    except DdiBotError:
        return False


class Guide:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.retry_pauses = RETRY_PAUSES
        self._posting: set[tuple[int, int]] = set()  # (case, version) being posted right now

    async def instruct(self, view: CaseView, thread: Thread, which: Step) -> bool:
        """Post the console actions for ``which`` once per case version; the case then waits.

        Slack trouble is retried a few times; if the post still fails, ``/ddi-check`` on the
        appliance or a restart posts it again. True if posted now.
        """
        key = (view.case_id, view.version)
        if key in self._posting:  # e.g. /ddi-check while Slack is being retried: not twice
            return False
        self._posting.add(key)
        try:
            return await self._instruct(view, thread, which)
        finally:
            self._posting.discard(key)

    async def _instruct(self, view: CaseView, thread: Thread, which: Step) -> bool:
        engine = self.engine
        async with engine.sessions() as session:
            if await timeline.has_event(session, view.case_id, "guide_posted", view.version):
                return False
        appliance = engine.inventory.get(view.appliance)
        now = engine.clock()
        period = (now - DETECTION_WINDOW, now)
        message = instructions(
            view,
            which,
            engine.notifier.style,
            console=appliance.console,
            capture_interface=appliance.capture_interface,
            period=period,
            upload_limit_mb=engine.config.max_upload_mb,
            tz=engine.config.tz,
        )
        for pause in (*self.retry_pauses, None):
            if await engine.executor.notify(engine.notifier.post(view, thread, message)):
                break
            if pause is None:
                return False
            await asyncio.sleep(pause)
        async with engine.sessions.begin() as session:
            if which != Step.REBOOT:
                await timeline.start_step_run(session, view.case_id, which.value, now)
            data: dict[str, object] = {"version": view.version, "step": which.value}
            if which == Step.DETECTION_QUERY:
                data.update(start=period[0].isoformat(), end=period[1].isoformat())
            await timeline.add_event(session, view.case_id, "guide_posted", data, now)
        return True

    async def waiting_step(self, case_id: int, version: int) -> tuple[CaseView, Step]:
        """The step a guided case waits for at ``version``; ``AlreadyDecided`` if none."""
        from bot.engine.core import view_of

        async with self.engine.sessions() as session:
            row = await cases.get_case(session, case_id)
        if row is None:
            raise CaseNotFound(str(case_id))
        state = CaseState.from_json(row.state)
        which = RUNNING.get(state.phase)
        if state.phase == Phase.REBOOTING:
            which = Step.REBOOT
        if row.version != version or which is None:
            raise AlreadyDecided("stale", stale=True)
        return view_of(row, state, version), which

    def check_may_answer(self, user: str) -> None:
        engine = self.engine
        if not (engine.may_run(user) or user in engine.config.approvers):
            raise NotOperator(user=user)

    async def connection(self, case_id: int, version: int, shown: str, user: str) -> None:
        """Step 1 answered: what the console's Test Connection showed."""
        self.check_may_answer(user)
        view, which = await self.waiting_step(case_id, version)
        if which != Step.CONNECTION_TEST:
            raise AlreadyDecided("stale", stale=True)
        shown = shown.strip()[:MAX_SHOWN]
        # pasted from the console, perhaps with a full stop or another case: still the success
        verified = shown.rstrip(".").casefold() == VERIFIED_TEXT.casefold()
        ctx = self.engine.executor.step_context(view)
        outcome = connection_outcome(ctx, ConnectionTestResult(verified, shown))
        await self.answer(
            case_id, version, which, outcome, user, "verified" if verified else "other"
        )

    async def count(self, case_id: int, version: int, count: int, user: str) -> None:
        """Step 2 answered with the number of detections the console's query found."""
        self.check_may_answer(user)
        view, which = await self.waiting_step(case_id, version)
        if which != Step.DETECTION_QUERY:
            raise AlreadyDecided("stale", stale=True)
        ctx = self.engine.executor.step_context(view)
        start, end = await self.period(view)
        outcome = detections_outcome(ctx, DetectionCount(count, start, end))
        outcome = await self.engine.checks.with_usual(view, outcome)
        await self.answer(case_id, version, which, outcome, user, "count")

    async def period(self, view: CaseView) -> tuple[datetime, datetime]:
        """The period step 2's instructions asked the person to query (at ``view.version``)."""
        async with self.engine.sessions() as session:
            events = await timeline.events(session, view.case_id)
        for event in reversed(events):
            data = event.data
            posted = event.kind == "guide_posted" and data.get("version") == view.version
            if posted and "start" in data and "end" in data:
                start, end = data["start"], data["end"]
                return datetime.fromisoformat(start), datetime.fromisoformat(end)
        now = self.engine.clock()
        return now - DETECTION_WINDOW, now

    async def maintenance(self, case_id: int, answer: str, notes: str, user: str) -> None:
        """Whether there was network maintenance around the connection test (vendor report)."""
        from bot.engine.core import thread_of, view_of

        self.check_may_answer(user)
        engine = self.engine
        async with engine.sessions.begin() as session:
            row = await cases.get_case(session, case_id)
            if row is None:
                raise CaseNotFound(str(case_id))
            data = {"answer": answer, "notes": notes[:MAX_SHOWN]}
            await timeline.add_event(
                session, case_id, "maintenance", data, engine.clock(), actor=user
            )
            view = view_of(row, CaseState.from_json(row.state), row.version)
            thread = thread_of(row)
        style = engine.notifier.style
        shown = f" — {style.escape(notes[:MAX_SHOWN])}" if notes.strip() else ""
        text = t(
            view.lang,
            "guide.maintenance.recorded",
            answer=t(view.lang, f"modal.maintenance.{answer}"),
            notes=shown,
        )
        await engine.executor.notify(engine.notifier.post(view, thread, Message(text)))

    async def answer(
        self,
        case_id: int,
        version: int,
        which: Step,
        outcome: StepOutcome,
        user: str,
        how: str,
        also: Callable[[AsyncSession], Awaitable[None]] | None = None,
    ) -> None:
        """Apply a person's answer to a guided step: exactly once, or ``AlreadyDecided``."""
        from bot.engine.core import thread_of, view_of

        self.check_may_answer(user)
        engine = self.engine
        now = engine.clock()
        try:
            async with engine.sessions.begin() as session:
                row = await cases.get_case(session, case_id)
                if row is None:
                    raise CaseNotFound(str(case_id))
                state = CaseState.from_json(row.state)
                if row.version != version or RUNNING.get(state.phase) != which:
                    raise Superseded()
                transition = runbook_step(state, outcome.observation, engine.config.timing)
                await cases.record_decision(
                    session,
                    case_id=case_id,
                    case_version=version,
                    point=f"step_{which.value}",
                    choice=how,
                    user_id=user,
                    now=now,
                )
                if not await engine.commit(session, case_id, version, state, transition):
                    raise Superseded()
                await timeline.finish_open_step_run(
                    session, case_id, which.value, outcome.outcome, outcome.record, now
                )
                await timeline.add_event(
                    session,
                    case_id,
                    "step_result",
                    {"step": which.value, "outcome": outcome.outcome, "by": how, **outcome.record},
                    now,
                    actor=user,
                )
                if also is not None:  # e.g. the upload that answered, marked done with it
                    await also(session)
                view = view_of(row, transition.state, version + 1)
                thread = thread_of(row)
        except (IntegrityError, Superseded):
            raise await engine.already_decided(case_id, version) from None
        message = outcome.message
        if message is not None:
            by = t(view.lang, "guide.answered_by", user=engine.notifier.style.mention(user))
            message = Message(f"{message.text}\n{by}")
        await engine.executor.after(view, thread, transition.effects, message, outcome.uploads)

    async def rebooted(self, case_id: int, version: int, user: str) -> None:
        """The person rebooted the sensor as told: the reboot counts as sent from now."""
        from bot.engine.core import thread_of, view_of
        from bot.engine.executor import reboot_key

        self.check_may_answer(user)
        engine = self.engine
        now = engine.clock()
        try:
            async with engine.sessions.begin() as session:
                row = await cases.get_case(session, case_id)
                if row is None:
                    raise CaseNotFound(str(case_id))
                state = CaseState.from_json(row.state)
                if row.version != version or state.phase != Phase.REBOOTING:
                    raise Superseded()
                before = view_of(row, state, version)
                effect = await side_effects.get(session, reboot_key(before))
                if effect is None or effect.outcome != INSTRUCTED:
                    raise Superseded()
                transition = runbook_step(state, RebootSent(now.timestamp()), engine.config.timing)
                await cases.record_decision(
                    session,
                    case_id=case_id,
                    case_version=version,
                    point="step_5",
                    choice="rebooted",
                    user_id=user,
                    now=now,
                )
                if not await engine.commit(session, case_id, version, state, transition):
                    raise Superseded()
                await side_effects.complete(session, effect.id, "sent", now)
                await timeline.add_event(
                    session, case_id, "rebooted_by_person", {"version": version}, now, actor=user
                )
                view = view_of(row, transition.state, version + 1)
                thread = thread_of(row)
        except (IntegrityError, Superseded):
            raise await engine.already_decided(case_id, version) from None
        text = t(view.lang, "guide.rebooted.by", user=engine.notifier.style.mention(user))
        await engine.executor.after(view, thread, transition.effects, Message(text))
