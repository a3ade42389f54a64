"""Carries out the runbook's effects: runs steps through drivers, asks, probes, closes.

Nothing here changes a case's state directly: results go back through ``Engine.observe``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError

from bot.capture.texts import escape as capture_escape
from bot.drivers.base import Driver
from bot.engine.guide import INSTRUCTED, guided_case
from bot.engine.steps import StepContext, StepOutcome, Upload, run_step
from bot.errors import DdiBotError, DriverError
from bot.i18n import t
from bot.notifier import Notifier, Thread
from bot.presenter import CaseView, Message, Prompt, closed, prompt, step_failed
from bot.probes import endpoint_or_none
from bot.report import facts_from, vendor_report
from bot.runbook import Outcome, Phase, Step
from bot.runbook.messages import (
    ApplianceProbed,
    Ask,
    Close,
    Effect,
    ProbeAppliance,
    RebootSent,
    RunStep,
    StartTimer,
    StepFailed,
    TimerKind,
)
from bot.runbook.model import AWAITING
from storage import cases, side_effects, timeline

if TYPE_CHECKING:
    from bot.engine.core import Engine

log = logging.getLogger(__name__)


def ip_of(console: str | None) -> str | None:
    """The sensor's address when the inventory gives its console as an IP literal."""
    endpoint = endpoint_or_none(console)
    return endpoint.host if endpoint is not None and endpoint.is_ip else None


def reboot_key(view: CaseView) -> str:
    """Once-only key of the reboot attempt the current approval allows."""
    return f"reboot:{view.case_id}:{view.state.reboot_attempts}"


class Executor:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def notifier(self) -> Notifier:
        return self.engine.notifier

    async def after(
        self,
        view: CaseView,
        thread: Thread,
        effects: tuple[Effect, ...],
        message: Message | None = None,
        uploads: tuple[Upload, ...] = (),
    ) -> None:
        """What follows a committed transition: its message, the header, then the effects."""
        if message is not None:
            await self.notify(self.notifier.post(view, thread, message))
        for up in uploads:
            await self.notify(self.notifier.upload(view, thread, up.filename, up.content, up.title))
        await self.notify(self.notifier.update_header(view, thread))
        await self.run(view, thread, effects)

    async def run(self, view: CaseView, thread: Thread, effects: tuple[Effect, ...]) -> None:
        for effect in effects:
            if isinstance(effect, RunStep):
                await self.run_step(view, thread, effect.step)
            elif isinstance(effect, Ask):
                await self.ask(view, thread)
            elif isinstance(effect, StartTimer):
                await self._announce_timer(view, thread, effect)
            elif isinstance(effect, ProbeAppliance):
                await self._probe(view)
            elif isinstance(effect, Close):
                await self.announce_close(view, thread, effect.outcome)

    def prompt_for(self, view: CaseView) -> Prompt:
        return prompt(view, AWAITING[view.state.phase], self.notifier.style)

    async def ask(self, view: CaseView, thread: Thread) -> None:
        """Post the current question; recorded, so a restart re-posts one that never went out."""
        if await self.notify(self.notifier.ask(view, thread, self.prompt_for(view))):
            async with self.engine.sessions.begin() as session:
                await timeline.add_event(
                    session, view.case_id, "prompt_posted", {"version": view.version},
                    self.engine.clock(),
                )  # fmt: skip

    # --- steps --------------------------------------------------------------------------------

    async def run_step(self, view: CaseView, thread: Thread, which: Step) -> None:
        engine = self.engine
        if which == Step.CONNECTION_TEST and view.state.reboot_attempts == 0:
            await engine.checks.network(view, thread)
        fed = await engine.checks.feed(view) if which == Step.DETECTION_QUERY else None
        if fed is None and which != Step.REBOOT and self._guided(view):
            await engine.guide.instruct(view, thread, which)
            return  # the answer arrives from a person: Guide.answer
        now = engine.clock()
        async with engine.sessions.begin() as session:
            run_id = await timeline.start_step_run(session, view.case_id, which.value, now)
            await timeline.add_event(session, view.case_id, "step_started", {"step": which}, now)
        outcome = fed or await self._attempt(view, thread, which)
        if outcome is None:
            return  # the case moved on while this step was starting
        if fed is None and which == Step.DETECTION_QUERY:
            outcome = await engine.checks.with_usual(view, outcome)
        message = outcome.message
        if isinstance(outcome.observation, StepFailed):
            # a refused capture says why (zip bomb, not a capture, ...): the operator can act
            detail = outcome.record.get("detail") if outcome.observation.code == "capture" else None
            shown = capture_escape(str(detail)) if detail else None
            message = step_failed(view.lang, which, outcome.observation.code, shown)
        async with engine.sessions.begin() as session:
            done = engine.clock()
            await timeline.finish_step_run(session, run_id, outcome.outcome, outcome.record, done)
            await timeline.add_event(
                session,
                view.case_id,
                "step_result",
                {"step": which.value, "outcome": outcome.outcome, **outcome.record},
                done,
            )
        await engine.observe(
            view.case_id, view.version, outcome.observation, message, outcome.uploads
        )

    def step_context(self, view: CaseView) -> StepContext:
        engine = self.engine
        appliance = engine.inventory.get(view.appliance)
        return StepContext(
            view=view,
            style=self.notifier.style,
            now=engine.clock(),
            capture_seconds=engine.config.capture_seconds,
            artifacts=engine.config.artifacts,
            sensor_ip=ip_of(appliance.console),
        )

    def _guided(self, view: CaseView) -> bool:
        return guided_case(self.engine, view)

    async def _attempt(self, view: CaseView, thread: Thread, which: Step) -> StepOutcome | None:
        """Run one step; never raises, so a case cannot be left 'running' by a surprise."""
        engine = self.engine
        try:
            appliance = engine.inventory.get(view.appliance)
            driver = engine.drivers(appliance)
        except DdiBotError as exc:  # the inventory or driver changed since the case opened
            log.error("case %s: no driver: %s", view.case_id, exc.detail)
            return StepOutcome(StepFailed(which, "config"), None, {"error": "config"}, "failed")
        try:
            if which == Step.REBOOT:
                return await self._reboot(view, thread, driver)
            return await run_step(which, driver, self.step_context(view))
        except Exception:
            log.exception("case %s: step %s failed unexpectedly", view.case_id, which.value)
            return StepOutcome(StepFailed(which, "internal"), None, {"error": "internal"}, "failed")
        finally:
            await driver.aclose()

    async def _reboot(self, view: CaseView, thread: Thread, driver: Driver) -> StepOutcome | None:
        """Recorded, with a once-only key, in a transaction that also checks the case is still
        waiting for exactly this reboot; only then is it sent."""
        engine = self.engine
        key = reboot_key(view)
        try:
            async with engine.sessions.begin() as session:
                if not await cases.hold(session, view.case_id, view.version, Phase.REBOOTING):
                    log.warning("case %s: moved on; reboot %s not sent", view.case_id, key)
                    return None
                effect_id = await side_effects.record(
                    session, view.case_id, "reboot", key, engine.clock()
                )
                decision = await cases.decision_for(session, view.case_id, view.version - 1)
        except IntegrityError:
            log.error("case %s: reboot %s already recorded; not sending again", view.case_id, key)
            return StepOutcome(StepFailed(Step.REBOOT, "duplicate"), None, {"key": key}, "failed")
        if self._guided(view):  # a person reboots it and says so: Guide.rebooted
            await engine.guide.instruct(view, thread, Step.REBOOT)
            async with engine.sessions.begin() as session:
                await side_effects.complete(session, effect_id, INSTRUCTED, engine.clock())
            return None
        try:
            await driver.reboot()
        except DriverError as exc:
            async with engine.sessions.begin() as session:
                await side_effects.complete(
                    session, effect_id, f"failed: {exc.code}", engine.clock()
                )
            return StepOutcome(
                StepFailed(Step.REBOOT, exc.code), None, {"error": exc.code}, "failed"
            )
        sent = engine.clock()
        async with engine.sessions.begin() as session:
            await side_effects.complete(session, effect_id, "sent", sent)
        approver = decision.user_id if decision is not None else "?"
        text = t(view.lang, "result.reboot.sent", user=self.notifier.style.mention(approver))
        return StepOutcome(RebootSent(sent.timestamp()), Message(text), {"key": key}, "ok")

    async def _probe(self, view: CaseView) -> None:
        engine = self.engine
        try:
            driver = engine.drivers(engine.inventory.get(view.appliance))
            try:
                up = await driver.is_up()
            finally:
                await driver.aclose()
        except Exception as exc:  # e.g. a TLS failure: not back, as far as we can tell
            log.warning("case %s: probe failed: %s", view.case_id, exc)
            up = False
        obs = ApplianceProbed(up, engine.clock().timestamp())
        await engine.observe(view.case_id, view.version, obs)

    # --- announcements ------------------------------------------------------------------------

    async def _announce_timer(self, view: CaseView, thread: Thread, effect: StartTimer) -> None:
        """The timer row itself was written with the transition; here people are told."""
        self.engine.timers_changed.set()  # committed now: the timer loop may look again
        if effect.kind == TimerKind.RECHECK:
            due = self.engine.clock() + timedelta(seconds=effect.delay)
            when = due.strftime("%Y-%m-%d %H:%M UTC")
            text = t(view.lang, "result.recheck.scheduled", when=when)
            await self.notify(self.notifier.post(view, thread, Message(text)))

    async def announce_close(self, view: CaseView, thread: Thread, outcome: Outcome) -> None:
        engine = self.engine
        async with engine.sessions() as session:
            sent = await side_effects.for_case(session, view.case_id, "reboot")
            events = await timeline.events(session, view.case_id)
        facts = facts_from([(event.kind, event.data) for event in events])
        reboots = sum(1 for effect in sent if effect.outcome == "sent")
        posted = True
        if outcome == Outcome.ESCALATED:
            report = vendor_report(view, self.notifier.style, reboots, facts)
            posted = await self.notify(self.notifier.post(view, thread, report))
        posted = await self.notify(self.notifier.post(view, thread, closed(view))) and posted
        async with engine.sessions.begin() as session:
            await timeline.add_event(
                session,
                view.case_id,
                "case_closed",
                {"outcome": outcome.value, "reason": view.state.reason},
                engine.clock(),
            )
            if posted:
                await timeline.add_event(
                    session, view.case_id, "closing_posted", {}, engine.clock()
                )

    async def notify(self, call: Awaitable[None]) -> bool:
        """Slack trouble must never lose case state (already committed): log it, say if it
        went out, so that what did not is posted again after a restart."""
        try:
            await call
        except Exception:
            log.exception("notification failed")
            return False
        return True
