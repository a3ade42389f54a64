"""The engine: opens cases, applies observations and decisions, carries out effects.

Every state change is a compare-and-swap on the case version, in one transaction with its
timeline events, so double clicks, retries and replicas cannot advance a case twice.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.drivers.base import Driver
from bot.engine.steps import StepContext, StepOutcome, Upload, run_step
from bot.engine.tasks import TaskTracker
from bot.errors import (
    AlreadyDecided,
    CaseAlreadyOpen,
    CaseNotFound,
    DdiBotError,
    DriverError,
    NotAuthorised,
    SlackPostFailed,
)
from bot.i18n import t
from bot.inventory import Appliance, Inventory
from bot.notifier import Notifier, Thread
from bot.presenter import CaseView, Message, Prompt, closed, prompt, step_failed
from bot.report import vendor_report
from bot.runbook import (
    CaseState,
    Choice,
    DecisionPoint,
    InvalidTransition,
    Outcome,
    Phase,
    Step,
    Timing,
)
from bot.runbook import start as start_runbook
from bot.runbook import step as runbook_step
from bot.runbook.messages import (
    ApplianceProbed,
    Ask,
    Close,
    Decided,
    Effect,
    Observation,
    ProbeAppliance,
    RebootInterrupted,
    RebootSent,
    RunStep,
    StartTimer,
    StepFailed,
)
from bot.runbook.model import AWAITING, RUNNING
from storage import cases, side_effects, timeline, timers

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineConfig:
    lang: str = "en"
    approvers: frozenset[str] = frozenset()
    operators: frozenset[str] | None = None
    timing: Timing = field(default_factory=Timing)
    capture_seconds: float = 5.0
    artifacts: Path = Path("ddi-bot-data")


@dataclass(frozen=True)
class Decision:
    """A decision taken: the case as the person saw it, and as it is now."""

    before: CaseView
    after: CaseView
    point: DecisionPoint


def _ip_of(console: str | None) -> str | None:
    """The sensor's address when the inventory gives its console as an IP literal."""
    if not console:
        return None
    host = console.rsplit(":", 1)[0] if console.count(":") == 1 else console
    host = host.strip("[]")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def _reboot_key(view: CaseView) -> str:
    """Once-only key of the reboot attempt the current approval allows."""
    return f"reboot:{view.case_id}:{view.state.reboot_attempts}"


class _Superseded(Exception):
    """The case moved on since the question was asked."""


def utcnow() -> datetime:
    return datetime.now(UTC)


class Engine:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        inventory: Inventory,
        drivers: Callable[[Appliance], Driver],
        notifier: Notifier,
        config: EngineConfig,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.inventory = inventory
        self.drivers = drivers
        self.notifier = notifier
        self.config = config
        self.clock = clock
        self.tasks = TaskTracker()
        self.timers_changed = asyncio.Event()

    # --- entry points -------------------------------------------------------------------------

    async def sync_inventory(self) -> None:
        async with self.sessions.begin() as session:
            for appliance in self.inventory.appliances:
                await cases.upsert_appliance(
                    session, appliance.name, appliance.driver, appliance.site, self.clock()
                )

    def may_run(self, user: str) -> bool:
        return self.config.operators is None or user in self.config.operators

    async def open_case(
        self, appliance_name: str, user: str, channel: str | None, lang: str | None = None
    ) -> CaseView:
        """Open a case and start step 1 in the background; raises for unknown/duplicate."""
        appliance = self.inventory.get(appliance_name)
        await self.drivers(appliance).aclose()  # a driver that cannot be made: say so now
        decision = start_runbook()
        lang = lang or self.config.lang
        now = self.clock()
        try:
            async with self.sessions.begin() as session:
                await cases.upsert_appliance(
                    session, appliance.name, appliance.driver, appliance.site, now
                )
                row = await cases.create_case(
                    session,
                    appliance=appliance.name,
                    requested_by=user,
                    lang=lang,
                    phase=decision.state.phase.value,
                    state=decision.state.to_json(),
                    channel=channel,
                    now=now,
                )
                await timeline.add_event(session, row.id, "case_opened", {}, now, actor=user)
                case_id = row.id
        except IntegrityError:
            raise await self._already_open(appliance.name) from None
        view = CaseView(case_id, appliance.name, user, lang, decision.state, 1)
        try:
            thread = await self.notifier.open_thread(view, channel or appliance.channel)
        except SlackPostFailed:
            await self._abandon(case_id)
            raise
        async with self.sessions.begin() as session:
            await cases.set_thread(session, case_id, thread.channel, thread.ts)
            await timeline.add_event(
                session, case_id, "thread_posted", {"channel": thread.channel, "ts": thread.ts}, now
            )
        self.tasks.spawn(self._execute(view, thread, decision.effects), f"case-{case_id}-start")
        return view

    async def decide(self, case_id: int, version: int, choice: Choice, user: str) -> Decision:
        """A person answered the question asked at ``version``. Exactly-once, DB-enforced."""
        if choice == Choice.APPROVE_REBOOT and user not in self.config.approvers:
            raise NotAuthorised(user=user)
        if choice != Choice.APPROVE_REBOOT and not self.may_run(user):
            raise NotAuthorised(user=user)
        now = self.clock()
        try:
            async with self.sessions.begin() as session:
                row = await cases.get_case(session, case_id)
                if row is None:
                    raise CaseNotFound(str(case_id))
                if row.version != version:
                    raise _Superseded()
                state = CaseState.from_json(row.state)
                point = AWAITING.get(state.phase)
                try:
                    decision = runbook_step(state, Decided(choice, user), self.config.timing)
                except InvalidTransition:
                    raise AlreadyDecided("stale", stale=True) from None
                assert point is not None
                await cases.record_decision(
                    session,
                    case_id=case_id,
                    case_version=version,
                    point=point.value,
                    choice=choice.value,
                    user_id=user,
                    now=now,
                )
                if not await self._advance(session, row.id, version, state, decision.state):
                    raise _Superseded()
                await timeline.add_event(
                    session,
                    case_id,
                    "decision",
                    {"point": point.value, "choice": choice.value, "version": version},
                    now,
                    actor=user,
                )
                before = self._view(row, state, version)
                view = self._view(row, decision.state, version + 1)
                thread = Thread(row.channel or "", row.thread_ts or "")
        except (IntegrityError, _Superseded):
            raise await self._already_decided(case_id, version) from None
        self.tasks.spawn(self._after(view, thread, None, decision.effects), f"case-{case_id}")
        return Decision(before=before, after=view, point=point)

    async def observe(
        self,
        case_id: int,
        version: int,
        obs: Observation,
        message: Message | None = None,
        uploads: tuple[Upload, ...] = (),
    ) -> None:
        """Apply an observation made while the case was at ``version``; stale ones are dropped."""
        async with self.sessions.begin() as session:
            row = await cases.get_case(session, case_id)
            if row is None or row.version != version:
                log.info("case %s: dropping stale %s", case_id, type(obs).__name__)
                return
            state = CaseState.from_json(row.state)
            try:
                decision = runbook_step(state, obs, self.config.timing)
            except InvalidTransition as exc:
                log.warning("case %s: %s", case_id, exc)
                return
            if not await self._advance(session, case_id, version, state, decision.state):
                log.info("case %s: advanced concurrently, dropping %s", case_id, obs)
                return
            view = self._view(row, decision.state, version + 1)
            thread = Thread(row.channel or "", row.thread_ts or "")
        await self._after(view, thread, message, decision.effects, uploads)

    async def resume(self) -> int:
        """After a restart: pick up every open case from its stored state."""
        async with self.sessions() as session:
            rows = list(await cases.open_cases(session))
        for row in rows:
            state = CaseState.from_json(row.state)
            view = self._view(row, state, row.version)
            thread = Thread(row.channel or "", row.thread_ts or "")
            if state.phase in RUNNING:  # steps 1-4 only read: running one again is safe
                effect: Effect = RunStep(RUNNING[state.phase])
                self.tasks.spawn(self._execute(view, thread, (effect,)), f"resume-{row.id}")
            elif state.phase == Phase.REBOOTING:
                obs = await self._reboot_outcome(view)
                self.tasks.spawn(self.observe(row.id, row.version, obs), f"resume-{row.id}")
        return len(rows)

    async def _reboot_outcome(self, view: CaseView) -> Observation:
        """What became of a reboot the bot was sending when it stopped."""
        async with self.sessions() as session:
            effect = await side_effects.get(session, _reboot_key(view))
        if effect is None or effect.completed_at is None or effect.outcome is None:
            return RebootInterrupted()  # unknown: a person decides, never a blind retry
        if effect.outcome == "sent":
            return RebootSent(effect.completed_at.timestamp())
        return StepFailed(Step.REBOOT, effect.outcome.removeprefix("failed: "))

    # --- effects ------------------------------------------------------------------------------

    async def _after(
        self,
        view: CaseView,
        thread: Thread,
        message: Message | None,
        effects: tuple[Effect, ...],
        uploads: tuple[Upload, ...] = (),
    ) -> None:
        if message is not None:
            await self._notify(self.notifier.post(view, thread, message))
        for up in uploads:
            await self._notify(
                self.notifier.upload(view, thread, up.filename, up.content, up.title)
            )
        await self._notify(self.notifier.update_header(view, thread))
        await self._execute(view, thread, effects)

    async def _execute(self, view: CaseView, thread: Thread, effects: tuple[Effect, ...]) -> None:
        for effect in effects:
            if isinstance(effect, RunStep):
                await self._run_step(view, thread, effect.step)
            elif isinstance(effect, Ask):
                await self._notify(self.notifier.ask(view, thread, self.prompt_for(view)))
            elif isinstance(effect, StartTimer):
                await self._start_timer(view, effect)
            elif isinstance(effect, ProbeAppliance):
                await self._probe(view)
            elif isinstance(effect, Close):
                await self._close(view, thread, effect.outcome)

    def prompt_for(self, view: CaseView) -> Prompt:
        point = AWAITING[view.state.phase]
        return prompt(view, point, self.notifier.style)

    async def _run_step(self, view: CaseView, thread: Thread, which: Step) -> None:
        now = self.clock()
        async with self.sessions.begin() as session:
            run_id = await timeline.start_step_run(session, view.case_id, which.value, now)
            await timeline.add_event(session, view.case_id, "step_started", {"step": which}, now)
        try:
            driver = self.drivers(self.inventory.get(view.appliance))
        except DdiBotError as exc:  # inventory or driver changed since the case opened
            log.error("case %s: no driver: %s", view.case_id, exc.detail)
            failed = StepOutcome(StepFailed(which, "config"), None, {"error": "config"}, "failed")
            await self._finish_step(view, which, run_id, failed)
            return
        try:
            if which == Step.REBOOT:
                outcome = await self._reboot(view, driver)
            else:
                ctx = StepContext(
                    driver=driver,
                    view=view,
                    style=self.notifier.style,
                    now=now,
                    capture_seconds=self.config.capture_seconds,
                    artifacts=self.config.artifacts,
                    sensor_ip=_ip_of(self.inventory.get(view.appliance).console),
                )
                outcome = await run_step(which, ctx)
        finally:
            await driver.aclose()
        await self._finish_step(view, which, run_id, outcome)

    async def _finish_step(
        self, view: CaseView, which: Step, run_id: int, outcome: StepOutcome
    ) -> None:
        message = outcome.message
        if isinstance(outcome.observation, StepFailed):
            message = step_failed(view.lang, which, outcome.observation.code)
        async with self.sessions.begin() as session:
            done = self.clock()
            await timeline.finish_step_run(session, run_id, outcome.outcome, outcome.record, done)
            await timeline.add_event(
                session,
                view.case_id,
                "step_result",
                {"step": which.value, "outcome": outcome.outcome, **outcome.record},
                done,
            )
        await self.observe(
            view.case_id, view.version, outcome.observation, message, outcome.uploads
        )

    async def _reboot(self, view: CaseView, driver: Driver) -> StepOutcome:
        """Recorded before it is attempted; the unique key makes a second attempt impossible."""
        key = _reboot_key(view)
        now = self.clock()
        try:
            async with self.sessions.begin() as session:
                effect_id = await side_effects.record(session, view.case_id, "reboot", key, now)
                approver = await self._approver(session, view)
        except IntegrityError:
            log.error("case %s: reboot %s already recorded; not sending again", view.case_id, key)
            return StepOutcome(StepFailed(Step.REBOOT, "duplicate"), None, {"key": key}, "failed")
        try:
            await driver.reboot()
        except DriverError as exc:
            async with self.sessions.begin() as session:
                await side_effects.complete(session, effect_id, f"failed: {exc.code}", self.clock())
            return StepOutcome(
                StepFailed(Step.REBOOT, exc.code), None, {"error": exc.code}, "failed"
            )
        sent = self.clock()
        async with self.sessions.begin() as session:
            await side_effects.complete(session, effect_id, "sent", sent)
        text = t(view.lang, "result.reboot.sent", user=self.notifier.style.mention(approver))
        return StepOutcome(RebootSent(sent.timestamp()), Message(text), {"key": key}, "ok")

    async def _approver(self, session: AsyncSession, view: CaseView) -> str:
        row = await cases.decision_for(session, view.case_id, view.version - 1)
        return row.user_id if row is not None else "?"

    async def _start_timer(self, view: CaseView, effect: StartTimer) -> None:
        due = self.clock() + timedelta(seconds=effect.delay)
        async with self.sessions.begin() as session:
            await timers.add_timer(session, view.case_id, effect.kind.value, view.version, due)
            await timeline.add_event(
                session,
                view.case_id,
                "timer_set",
                {"kind": effect.kind, "due": due.isoformat()},
                self.clock(),
            )
        if effect.kind.value == "recheck":
            text = t(view.lang, "result.recheck.scheduled", when=due.strftime("%Y-%m-%d %H:%M UTC"))
            async with self.sessions() as session:
                row = await cases.get_case(session, view.case_id)
            if row is not None and row.channel and row.thread_ts:
                thread = Thread(row.channel, row.thread_ts)
                await self._notify(self.notifier.post(view, thread, Message(text)))
        self.timers_changed.set()

    async def _probe(self, view: CaseView) -> None:
        try:
            driver = self.drivers(self.inventory.get(view.appliance))
            try:
                up = await driver.is_up()
            finally:
                await driver.aclose()
        except DdiBotError as exc:  # e.g. a TLS failure: not back yet, as far as we can tell
            log.warning("case %s: probe failed: %s", view.case_id, exc.detail)
            up = False
        message = Message(t(view.lang, "result.appliance.back")) if up else None
        await self.observe(
            view.case_id, view.version, ApplianceProbed(up, self.clock().timestamp()), message
        )

    async def _close(self, view: CaseView, thread: Thread, outcome: Outcome) -> None:
        async with self.sessions.begin() as session:
            reboots = len(await side_effects.for_case(session, view.case_id, "reboot"))
            await timeline.add_event(
                session,
                view.case_id,
                "case_closed",
                {"outcome": outcome.value, "reason": view.state.reason},
                self.clock(),
            )
        if outcome == Outcome.ESCALATED:
            report = vendor_report(view, self.notifier.style, reboots)
            await self._notify(self.notifier.post(view, thread, report))
        await self._notify(self.notifier.post(view, thread, closed(view)))

    # --- helpers ------------------------------------------------------------------------------

    async def _advance(
        self, session: AsyncSession, case_id: int, version: int, old: CaseState, new: CaseState
    ) -> bool:
        ok = await cases.advance_case(
            session,
            case_id,
            expected_version=version,
            phase=new.phase.value,
            state=new.to_json(),
            closed=new.phase.closed,
            outcome=new.outcome.value if new.outcome else None,
            now=self.clock(),
        )
        if ok and old.phase != new.phase:
            await timeline.add_event(
                session, case_id, "phase", {"from": old.phase, "to": new.phase}, self.clock()
            )
        return ok

    async def _already_open(self, appliance: str) -> CaseAlreadyOpen:
        async with self.sessions() as session:
            row = await cases.open_case_for(session, appliance)
        if row is None:  # closed in between: let the person simply try again
            return CaseAlreadyOpen(appliance, appliance=appliance, case_id="?", thread=None)
        thread = Thread(row.channel, row.thread_ts) if row.channel and row.thread_ts else None
        return CaseAlreadyOpen(appliance, appliance=appliance, case_id=row.id, thread=thread)

    async def _already_decided(self, case_id: int, version: int) -> AlreadyDecided:
        async with self.sessions() as session:
            row = await cases.decision_for(session, case_id, version)
        if row is None:
            return AlreadyDecided("stale", stale=True)
        return AlreadyDecided("decided", stale=False, choice=row.choice, user=row.user_id)

    async def _abandon(self, case_id: int) -> None:
        """The root message could not be posted: nothing ran yet, so close the case quietly."""
        async with self.sessions.begin() as session:
            row = await cases.get_case(session, case_id)
            if row is not None:
                row.open_key, row.closed_at, row.outcome = None, self.clock(), "abandoned"
                await timeline.add_event(session, case_id, "abandoned", {}, self.clock())

    def _view(self, row: Any, state: CaseState, version: int) -> CaseView:
        return CaseView(row.id, row.appliance, row.requested_by, row.lang, state, version)

    async def _notify(self, call: Any) -> None:
        """Slack trouble must never lose case state (it is already committed): log it."""
        try:
            await call
        except Exception:
            log.exception("notification failed")
