"""The engine: opens cases and applies decisions and observations, durably and exactly once.

Every state change is a compare-and-swap on the case version, in one transaction with its
timeline events and the timers it starts, so double clicks, retries, replicas and crashes
cannot advance a case twice or lose a timer. Effects are then carried out by the executor.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.drivers.base import Driver
from bot.engine.checks import Checks
from bot.engine.executor import Executor
from bot.engine.guide import Guide, guided_case
from bot.engine.steps import Upload
from bot.engine.tasks import TaskTracker
from bot.engine.uploads import Uploads
from bot.errors import (
    AlreadyDecided,
    CaseAlreadyOpen,
    CaseNotFound,
    NotAuthorised,
    NotOperator,
    SlackPostFailed,
)
from bot.files import FileSource
from bot.inventory import Appliance, Inventory
from bot.notifier import Notifier, Thread
from bot.presenter import CaseView, Message
from bot.runbook import (
    CaseState,
    Choice,
    DecisionPoint,
    InvalidTransition,
    Phase,
    Step,
    Timing,
)
from bot.runbook import start as start_runbook
from bot.runbook import step as runbook_step
from bot.runbook.machine import Decision as Transition
from bot.runbook.messages import Decided, Observation, StartTimer
from bot.runbook.model import AWAITING, RUNNING
from storage import cases, timeline, timers

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineConfig:
    lang: str = "en"
    approvers: frozenset[str] = frozenset()
    operators: frozenset[str] | None = None
    timing: Timing = field(default_factory=Timing)
    capture_seconds: float = 5.0
    artifacts: Path = Path("ddi-bot-data")
    max_upload_mb: float = 512.0
    probe_timeout: float = 5.0  # seconds for each of the bot's own network probes
    upload_lease: float = 60.0  # seconds a claimed file may go unrenewed before it is retaken
    tz: tzinfo = UTC  # the consoles' time zone: periods are shown and exports read in it


@dataclass(frozen=True)
class Decision:
    """A decision taken: the case as the person saw it, and as it is now."""

    before: CaseView
    after: CaseView
    point: DecisionPoint | None  # None: an operator stopped a case that asked nothing


class _Superseded(Exception):
    """The case moved on since the question was asked."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def thread_of(row: Any) -> Thread:
    return Thread(row.channel or "", row.thread_ts or "")


def view_of(row: Any, state: CaseState, version: int) -> CaseView:
    return CaseView(row.id, row.appliance, row.requested_by, row.lang, state, version)


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
        files: FileSource | None = None,
    ) -> None:
        self.sessions = sessions
        self.inventory = inventory
        self.drivers = drivers
        self.notifier = notifier
        self.config = config
        self.clock = clock
        self.tasks = TaskTracker()
        self.timers_changed = asyncio.Event()
        self.executor = Executor(self)
        self.guide = Guide(self)
        self.uploads = Uploads(self, files)
        self.checks = Checks(self)
        # when this process's syslog receiver started listening; None while it does not listen
        self.syslog_listening: Callable[[], datetime | None] = lambda: None

    async def sync_inventory(self) -> None:
        async with self.sessions.begin() as session:
            for appliance in self.inventory.appliances:
                await cases.upsert_appliance(
                    session, appliance.name, appliance.driver, appliance.site, self.clock()
                )

    def may_run(self, user: str) -> bool:
        return self.config.operators is None or user in self.config.operators

    def check_may_decide(self, user: str, choice: Choice) -> None:
        if choice == Choice.APPROVE_REBOOT:
            if user not in self.config.approvers:
                raise NotAuthorised(user=user)
        elif not (self.may_run(user) or user in self.config.approvers):
            raise NotOperator(user=user)

    # --- opening ------------------------------------------------------------------------------

    async def open_case(
        self, appliance_name: str, user: str, channel: str | None, lang: str | None = None
    ) -> CaseView:
        """Open a case and start step 1 in the background; raises for unknown/duplicate."""
        appliance = self.inventory.get(appliance_name)
        await self.drivers(appliance).aclose()  # a driver that cannot be made: say so now
        start = start_runbook()
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
                    phase=start.state.phase.value,
                    state=start.state.to_json(),
                    channel=channel,
                    now=now,
                )
                await timeline.add_event(session, row.id, "case_opened", {}, now, actor=user)
                case_id = row.id
        except IntegrityError:
            raise await self._already_open(appliance.name) from None
        view = CaseView(case_id, appliance.name, user, lang, start.state, 1)
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
        self.tasks.spawn(self.executor.run(view, thread, start.effects), f"case-{case_id}-start")
        return view

    async def resume(self) -> int:
        """After a restart: pick up every open case from its stored state."""
        from bot.engine.recovery import resume

        resumed = await resume(self)
        await self.uploads.sweep()
        return resumed

    async def open_case_of(self, appliance: str) -> tuple[CaseView, Thread] | None:
        async with self.sessions() as session:
            row = await cases.open_case_for(session, appliance)
        if row is None:
            return None
        return view_of(row, CaseState.from_json(row.state), row.version), thread_of(row)

    async def ask_again(self, view: CaseView, thread: Thread) -> bool:
        """Post again what the case waits for, in case Slack lost it: its question, or a guided
        step's console instructions that never went out. True if something was posted."""
        if view.state.phase in AWAITING:
            await self.executor.ask(view, thread)
            return True
        which = RUNNING.get(view.state.phase)
        if view.state.phase == Phase.REBOOTING:
            which = Step.REBOOT
        if which is not None and guided_case(self, view):
            return await self.guide.instruct(view, thread, which)
        return False

    # --- decisions ----------------------------------------------------------------------------

    async def decide(self, case_id: int, version: int, choice: Choice, user: str) -> Decision:
        """A person answered the question asked at ``version``. Exactly-once, DB-enforced."""
        self.check_may_decide(user, choice)
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
                    transition = runbook_step(state, Decided(choice, user), self.config.timing)
                except InvalidTransition:
                    raise AlreadyDecided("stale", stale=True) from None
                await cases.record_decision(
                    session,
                    case_id=case_id,
                    case_version=version,
                    point=point.value if point else "stop",
                    choice=choice.value,
                    user_id=user,
                    now=now,
                )
                if not await self.commit(session, row.id, version, state, transition):
                    raise _Superseded()
                await timeline.add_event(
                    session,
                    case_id,
                    "decision",
                    {"point": point, "choice": choice.value, "version": version},
                    now,
                    actor=user,
                )
                before = view_of(row, state, version)
                after = view_of(row, transition.state, version + 1)
                thread = thread_of(row)
        except (IntegrityError, _Superseded):
            raise await self.already_decided(case_id, version) from None
        self.tasks.spawn(self.executor.after(after, thread, transition.effects), f"case-{case_id}")
        return Decision(before=before, after=after, point=point)

    async def stop(self, appliance_name: str, user: str) -> Decision:
        """An operator escalates an appliance's open case, whatever it is doing."""
        appliance = self.inventory.get(appliance_name)
        for _ in range(5):  # the case may move on between reading and deciding: try again
            found = await self.open_case_of(appliance.name)
            if found is None:
                raise CaseNotFound(appliance.name)
            view, _thread = found
            try:
                return await self.decide(view.case_id, view.version, Choice.ESCALATE, user)
            except AlreadyDecided as exc:
                if not exc.params.get("stale") and exc.params.get("choice") == "escalate":
                    raise
        raise AlreadyDecided("stale", stale=True)

    # --- observations -------------------------------------------------------------------------

    async def observe(
        self,
        case_id: int,
        version: int,
        obs: Observation,
        message: Message | None = None,
        uploads: tuple[Upload, ...] = (),
        timer_id: int | None = None,
    ) -> None:
        """Apply an observation made while the case was at ``version``; stale ones are dropped.

        With ``timer_id``, the timer is claimed in the same transaction: a crash before the
        commit leaves it due, and a timer is never consumed twice.
        """
        async with self.sessions.begin() as session:
            if timer_id is not None and not await timers.claim(session, timer_id, self.clock()):
                return
            row = await cases.get_case(session, case_id)
            if row is None or row.version != version:
                log.info("case %s: dropping stale %s", case_id, type(obs).__name__)
                return
            state = CaseState.from_json(row.state)
            try:
                transition = runbook_step(state, obs, self.config.timing)
            except InvalidTransition as exc:
                log.warning("case %s: %s", case_id, exc)
                return
            if not await self.commit(session, case_id, version, state, transition):
                log.info("case %s: advanced concurrently, dropping %s", case_id, obs)
                return
            view = view_of(row, transition.state, version + 1)
            thread = thread_of(row)
        await self.executor.after(view, thread, transition.effects, message, uploads)

    # --- helpers ------------------------------------------------------------------------------

    async def commit(
        self,
        session: AsyncSession,
        case_id: int,
        version: int,
        old: CaseState,
        transition: Transition,
    ) -> bool:
        """CAS the new state; the timers it starts are written in the same transaction."""
        new = transition.state
        now = self.clock()
        ok = await cases.advance_case(
            session,
            case_id,
            expected_version=version,
            phase=new.phase.value,
            state=new.to_json(),
            closed=new.phase.closed,
            outcome=new.outcome.value if new.outcome else None,
            now=now,
        )
        if not ok:
            return False
        if old.phase != new.phase:
            await timeline.add_event(
                session, case_id, "phase", {"from": old.phase, "to": new.phase}, now
            )
        for effect in transition.effects:
            if isinstance(effect, StartTimer):
                due = now + timedelta(seconds=effect.delay)
                await timers.add_timer(session, case_id, effect.kind.value, version + 1, due)
                await timeline.add_event(
                    session,
                    case_id,
                    "timer_set",
                    {"kind": effect.kind, "due": due.isoformat()},
                    now,
                )
                self.timers_changed.set()
        return True

    async def _already_open(self, appliance: str) -> CaseAlreadyOpen:
        found = await self.open_case_of(appliance)
        if found is None:  # closed in between: let the person simply try again
            return CaseAlreadyOpen(appliance, appliance=appliance, case_id="?", thread=None)
        view, thread = found
        return CaseAlreadyOpen(
            appliance, appliance=appliance, case_id=view.case_id, thread=thread, view=view
        )

    async def already_decided(self, case_id: int, version: int) -> AlreadyDecided:
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
