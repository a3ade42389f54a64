"""The engine as ``handlers/``, the demo and the runtime see it: one object, one call per
thing a person or Slack does. Everything goes through ``unit.apply`` (or ``unit.admit``);
what follows is handed to the dispatcher."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import casefile, metrics
from bot.drivers.base import Watch
from bot.engine import answers, approval, recovery
from bot.engine.access import Access
from bot.engine.admission import Admissions
from bot.engine.alert_rows import alert_of
from bot.engine.context import Context, Drivers, EngineConfig, Foreground, utcnow
from bot.engine.delivery import Delivery
from bot.engine.dispatch import Dispatch, LocalDispatch
from bot.engine.export import case_record
from bot.engine.home import home_facts
from bot.engine.instruct import guide_key
from bot.engine.jobs import JobQueue, JobSettings
from bot.engine.narration import prompt_key
from bot.engine.note import Note
from bot.engine.outbox import queue, say
from bot.engine.outgoing import Kind, Outgoing
from bot.engine.roster import Groups, Roster
from bot.engine.scheduler import run_timers
from bot.engine.status import appliance_status
from bot.engine.sweep import SweepReport, sweep
from bot.engine.sweep import show as show_alert
from bot.engine.tasks import TaskTracker
from bot.engine.unit import (
    Admission,
    Applied,
    Refusal,
    Rejected,
    answered,
    apply,
    past_of,
    view_of,
)
from bot.engine.uploads import Uploads
from bot.engine.work import Work
from bot.errors import (
    AlertCleared,
    AlertNotFound,
    AlreadyDecided,
    CaseAlreadyOpen,
    CaseNotFound,
    NoThread,
    NotOperator,
    SlackPostFailed,
)
from bot.files import FileSource
from bot.home import HomeFacts
from bot.inventory import Inventory
from bot.listing import OpenEntry, PastCase, deadlines
from bot.messenger import Messenger
from bot.presenter import TIME_FORMAT, CaseView, prompt
from bot.runbook import CaseState, Choice, DecisionPoint
from bot.runbook.messages import Decided, Instruct
from bot.runbook.model import AWAITING
from bot.schedule import until_next
from bot.status import ApplianceStatus
from bot.watch.alert import Alert, Closed
from bot.watch.findings import FLEET
from storage import alerts, cases, outbox, timeline, timers
from storage.db import Database

__all__ = ["Decision", "Engine", "EngineConfig", "Thread"]
log = logging.getLogger(__name__)
WATCH_USER = "ddi-bot"  # who opened a case the fleet watch opened itself
_REBASES = 5  # a bound approval is tried again this often when others keep moving the case
START_AFTER = 0.05  # seconds between recording a check and starting its steps


@dataclass(frozen=True)
class Thread:
    channel: str
    ts: str


@dataclass(frozen=True)
class Decision:
    """A decision taken: the case as the person saw it, and as it is now."""

    before: CaseView
    after: CaseView
    point: DecisionPoint | None  # None: an operator stopped a case that asked nothing
    choice: Choice | None = None
    user: str | None = None


def refused(rejected: Rejected, case_id: int) -> Exception:
    """The error a person gets for an answer or decision that did not count."""
    if rejected.reason == Refusal.NOT_FOUND:
        return CaseNotFound(str(case_id))
    if rejected.reason == Refusal.DECIDED:
        return AlreadyDecided("decided", stale=False, choice=rejected.choice, user=rejected.user)
    return AlreadyDecided("stale", stale=True)


class Guide:
    """A person's answers to guided steps, for the handlers."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def check_may_answer(self, user: str) -> None:
        await self.engine.access.check_may_answer(user)

    async def waiting_step(self, case_id: int, version: int) -> CaseView:
        found = await answers.waiting(self.engine.ctx, case_id, version)
        if isinstance(found, Rejected):
            raise refused(found, case_id)
        return found[0]

    async def connection(self, case_id: int, version: int, shown: str, user: str) -> None:
        await self.check_may_answer(user)
        found = await answers.connection(self.engine.ctx, case_id, version, shown, user)
        self.engine.run(found, case_id)

    async def count(self, case_id: int, version: int, counted: int, user: str) -> None:
        await self.check_may_answer(user)
        found = await answers.count(self.engine.ctx, case_id, version, counted, user)
        self.engine.run(found, case_id)

    async def rebooted(self, case_id: int, version: int, user: str) -> None:
        await self.check_may_answer(user)
        found = await answers.rebooted(self.engine.ctx, case_id, version, user)
        self.engine.run(found, case_id)

    async def maintenance(self, case_id: int, answer: str, notes: str, user: str) -> None:
        await self.check_may_answer(user)
        if not await answers.maintenance(self.engine.ctx, case_id, answer, notes, user):
            raise CaseNotFound(str(case_id))


class Engine:
    def __init__(
        self,
        *,
        db: Database,
        inventory: Inventory,
        drivers: Drivers,
        messenger: Messenger,
        config: EngineConfig,
        clock: Callable[[], datetime] = utcnow,
        files: FileSource | None = None,
        jobs: JobSettings | None = None,
        groups: Groups | None = None,
    ) -> None:
        """``jobs``: carry work out as jobs on the database (PostgreSQL, several replicas);
        without it, in tasks of this process. ``groups``: reads Slack user groups' members."""
        self.ctx = Context(
            db=db,
            inventory=inventory,
            drivers=drivers,
            style=messenger.style,
            config=config,
            clock=clock,
            files=files,
            roster=Roster(groups),
        )
        self.messenger = messenger
        self.tasks = TaskTracker()
        self.jobs = None if jobs is None else JobQueue(self.ctx, jobs, self.tasks)
        self.dispatch: Dispatch
        if self.jobs is None:
            self.dispatch = LocalDispatch(self.ctx, self.tasks)
        else:
            self.ctx.record_work = self.jobs.record
            self.dispatch = self.jobs
        self.uploads = Uploads(self.ctx, self.dispatch, self.tasks)
        self.guide = Guide(self)
        self.delivery = Delivery(self.ctx, messenger)
        self.admissions = Admissions(self.ctx)
        if self.jobs is not None:
            self.jobs.sweeper = self.sweep
        # (case, version) -> the decision this process is recording for that question
        self._deciding: dict[tuple[int, int, str | None], asyncio.Future[Decision]] = {}

    # --- the plain dependencies, for callers and tests ----------------------------------------

    @property
    def config(self) -> EngineConfig:
        return self.ctx.config

    @config.setter
    def config(self, value: EngineConfig) -> None:
        self.ctx.config = value

    @property
    def access(self) -> Access:
        """Who may do what, by the settings of now (tests change them while running)."""
        return Access(self.ctx.config, self.ctx.roster)

    @property
    def foreground(self) -> Foreground:
        """Slack requests being answered; background work lets them go first."""
        return self.ctx.foreground

    @property
    def db(self) -> Database:
        return self.ctx.db

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return self.ctx.db.sessions

    @property
    def inventory(self) -> Inventory:
        return self.ctx.inventory

    def clock(self) -> datetime:
        return self.ctx.clock()

    def driver(self, name: str) -> Watch:
        return self.ctx.drivers.get(self.inventory.get(name))

    async def may_run(self, user: str) -> bool:
        return await self.access.may_run(user)

    def run(self, result: Applied | Rejected, case_id: int) -> Applied:
        """Hand the work of an applied change out, or raise what the person must be told."""
        if isinstance(result, Rejected):
            raise refused(result, case_id)
        self.dispatch.submit(result.work)
        return result

    # --- background loops ---------------------------------------------------------------------

    async def sync_inventory(self) -> None:
        async with self.db.write() as session:
            for appliance in self.inventory.appliances:
                await cases.upsert_appliance(
                    session, appliance.name, appliance.driver, appliance.site, self.clock()
                )

    async def resume(self) -> int:
        """After a restart: pick up every open case, and files whose processing stopped.
        With jobs, a case whose work another replica holds is left to it."""
        if self.jobs is not None:
            count = await self.jobs.resume()
        else:
            count, resumed = await recovery.resume(self.ctx)
            for case in resumed:
                self.dispatch.submit(case.recorded)
                self.dispatch.start(case.fresh)
        await self.uploads.sweep()
        return count

    async def ping(self) -> None:
        """Raise if the database does not answer a trivial query."""
        async with self.db.read() as session:
            await session.execute(text("SELECT 1"))

    async def refresh_gauges(self) -> None:
        """Open cases and outbox depth, from the database, into the metrics."""
        async with self.db.read() as session:
            metrics.OPEN_CASES.set(await cases.count_open(session))
            metrics.DEPTH.set(await outbox.depth(session))

    async def quiesce(self, limit: float = 30.0) -> None:
        """Until no work runs and the outbox is empty, or ``limit`` seconds (for the demo and
        tests: what a person would see once the bot has nothing left to do)."""
        async with asyncio.timeout(limit):
            while True:
                await self.tasks.drain()
                async with self.db.read() as session:
                    idle = await outbox.depth(session) == 0 and not self.tasks.busy
                if idle and (self.jobs is None or not await self.jobs.busy()):
                    return
                await asyncio.sleep(0.02)

    async def run_timers(self, max_sleep: float = 5.0) -> None:
        await run_timers(self.ctx, self.dispatch, self.tasks, self.uploads.sweep, max_sleep)

    async def run_watch(self) -> None:
        """Forever, in one process: a sweep every ``watch_seconds``, aligned on the clock
        (with jobs, the periodic job does this once across replicas)."""
        period = int(self.config.watch_seconds)
        while True:
            await asyncio.sleep(until_next(period, time.time()))
            try:
                await self.sweep()
            except Exception:
                log.exception("sweep failed; the next one is in %d s", period)

    # --- the fleet watch ----------------------------------------------------------------------

    async def sweep(self) -> SweepReport:
        """Check every appliance now; raise and clear alerts. With ``watch_opens_cases``, an
        appliance's own new alert opens its case (a guided sensor's waits for a person: its
        alert keeps its button)."""
        report = await sweep(self.ctx)
        if self.config.watch_opens_cases:
            for alert in report.raised:
                appliance = self.ctx.appliance(alert.appliance)
                if appliance is None or appliance.driver == "guided":
                    continue
                if await self._undelivered_before(alert):
                    log.warning("sweep: no case opened for alert %s: its previous alert could "
                                "not be posted either", alert.alert_id)  # fmt: skip
                    continue
                try:
                    await self.open_from_alert(alert.alert_id, WATCH_USER, check=False)
                except (CaseAlreadyOpen, AlertNotFound, AlertCleared) as exc:
                    log.info("sweep: no case opened for alert %s: %s", alert.alert_id, exc)
                except Exception:  # the next alerts still get their cases
                    log.exception("sweep: the case of alert %s could not be opened",
                                  alert.alert_id)  # fmt: skip
        return report

    async def _undelivered_before(self, alert: Alert) -> bool:
        """Whether the alert before this one, for the same condition, could not be posted (a
        case opened now would fail to post just the same, at every sweep)."""
        async with self.db.read() as session:
            row = await alerts.get(session, alert.alert_id)
            before = await alerts.previous(session, row.key, alert.alert_id) if row else None
        return before is not None and before.detail.get("closed") == Closed.UNDELIVERED.value

    async def open_from_alert(
        self, alert_id: int, user: str, lang: str | None = None, *, check: bool = True
    ) -> CaseView:
        """An alert's "Open a case": the appliance's normal case, in the alert's channel;
        the alert then says which case and who opened it."""
        if check and not await self.may_run(user):
            raise NotOperator(user=user)
        async with self.db.read() as session:
            row = await alerts.get(session, alert_id)
        if row is None or row.appliance == FLEET:
            raise AlertNotFound(f"#{alert_id}")
        if row.cleared_at is not None:
            at = row.cleared_at.strftime(TIME_FORMAT)
            raise AlertCleared(f"#{alert_id}", at=at, appliance=row.appliance)
        view = await self.admit(row.appliance, user, row.channel, lang)
        now = self.clock()
        async with self.db.write() as session:
            if await alerts.set_case(session, alert_id, view.case_id, user):
                found = await alerts.get(session, alert_id)
                if found is not None:
                    await show_alert(session, self.ctx, found, now)
        self.ctx.wake.outbox.set()
        return view

    async def open_alerts(self) -> list[Alert]:
        """The alerts not yet cleared, the oldest first (``/ddi-check list``, App Home)."""
        async with self.db.read() as session:
            return [alert_of(row) for row in await alerts.open_alerts(session)]

    # --- opening and stopping -----------------------------------------------------------------

    async def admit(
        self,
        appliance_name: str,
        user: str,
        channel: str | None,
        lang: str | None = None,
        reply_url: str | None = None,
    ) -> CaseView:
        """Record a new case (durably: before Slack is answered) and start it."""
        appliance = self.inventory.get(appliance_name)
        self.ctx.drivers.available(appliance)  # a driver that is not installed: say so now
        where = channel or appliance.channel
        if not where:
            raise SlackPostFailed("no channel")
        request = Admission(
            appliance=appliance.name,
            guided=appliance.driver == "guided",
            user=user,
            channel=where,
            lang=lang or self.config.lang,
            reply_url=reply_url,
        )
        result = await self.admissions.admit(request)
        if isinstance(result, Rejected):
            raise await self._already_open(appliance.name)
        # the case starts once Slack has had its answer (a burst of checks acknowledged first)
        asyncio.get_running_loop().call_later(START_AFTER, self.dispatch.submit, result.work)
        return result.after

    open_case = admit

    async def open_case_of(self, appliance: str) -> tuple[CaseView, Thread | None] | None:
        async with self.db.read() as session:
            row = await cases.open_case_for(session, appliance)
        if row is None:
            return None
        thread = Thread(row.channel or "", row.thread_ts) if row.thread_ts else None
        return view_of(row), thread

    async def _already_open(self, appliance: str) -> CaseAlreadyOpen:
        found = await self.open_case_of(appliance)
        if found is None:  # closed in between: let the person simply try again
            return CaseAlreadyOpen(appliance, appliance=appliance, case_id="?", thread=None)
        view, thread = found
        return CaseAlreadyOpen(
            appliance, appliance=appliance, case_id=view.case_id, thread=thread, view=view
        )

    async def ask_again(self, view: CaseView) -> bool:
        """Post again what the case waits for, in case it went missing: its question, or a
        guided step's console instructions that never went out. True if something goes out."""
        now = self.clock()
        if view.state.phase in AWAITING:
            question = prompt(view, AWAITING[view.state.phase], self.ctx.style)
            async with self.db.write() as session:
                row = await cases.lock(session, view.case_id)
                if row is None or row.version != view.version:
                    return False
                queued = await outbox.by_key(session, prompt_key(view))
                if queued is not None and queued.status == outbox.PENDING:
                    await outbox.kick(session, queued.id, now)
                else:
                    key = None if queued is not None else prompt_key(view)
                    await say(session, row, question, now, key=key)
            self.ctx.wake.outbox.set()
            return True
        which = view.state.person_step()
        if which is None:
            return False
        async with self.db.write() as session:
            queued = await outbox.by_key(session, guide_key(view))
            if queued is not None and queued.status == outbox.PENDING:
                await outbox.kick(session, queued.id, now)
        if queued is None:
            self.dispatch.start([Work(view, Instruct(which))])
        self.ctx.wake.outbox.set()
        return queued is None or queued.status == outbox.PENDING

    async def open_entries(self) -> list[OpenEntry]:
        """Every open case, with the deadline of what it waits for (``/ddi-check list``)."""
        async with self.db.read() as session:
            rows = list(await cases.open_cases(session))
            pending = await timers.pending_for(session, [row.id for row in rows])
        until = deadlines(pending, {row.id: row.version for row in rows})
        return [OpenEntry(view_of(row), row.opened_at, until.get(row.id)) for row in rows]

    async def history(self, appliance_name: str, limit: int = 10) -> tuple[str, list[PastCase]]:
        """The appliance's inventory name and its latest closed cases (``/ddi-check history``)."""
        appliance = self.inventory.get(appliance_name)
        async with self.db.read() as session:
            rows = await cases.past_cases(session, appliance.name, limit)
        return appliance.name, [past_of(row) for row in rows]

    async def last_change(self) -> tuple[int, int, int]:
        """A mark that moves whenever a case or an alert changes, in this process or
        another."""
        async with self.db.read() as session:
            raised, changed = await alerts.last_change(session)
            return await timeline.last_event_id(session), raised, changed

    async def home(self) -> HomeFacts:
        """What the App Home tab shows: open cases, every appliance's health, recent cases."""
        return await home_facts(self.ctx, await self.open_entries())

    async def status(self, appliance_name: str) -> ApplianceStatus:
        """The appliance's health now: probes run now, its syslog feed, its cases
        (``/ddi-check status``)."""
        return await appliance_status(self.ctx, self.inventory.get(appliance_name))

    async def export(self, case_id: int, user: str) -> CaseView:
        """Post case ``case_id``'s case file (Markdown and JSON) in its thread, as it is now."""
        if not await self.may_run(user):
            raise NotOperator(user=user)
        now = self.clock()
        async with self.db.write() as session:
            row = await cases.lock(session, case_id)  # queued in order with the case's own
            record = await case_record(session, self.inventory, case_id)
            if record is None or row is None:
                raise CaseNotFound(f"#{case_id}")
            if not row.channel or not row.thread_ts:
                raise NoThread(str(case_id))
            items = [Outgoing(Kind.ATTACH, attachment=a) for a in casefile.attachments(record)]
            await queue(session, case_id=case_id, channel=row.channel, reply_url=None,
                        items=items, now=now)  # fmt: skip
            view = view_of(row)
        self.ctx.wake.outbox.set()
        return view

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

    # --- decisions ----------------------------------------------------------------------------

    async def decide(
        self,
        case_id: int,
        version: int,
        choice: Choice,
        user: str,
        clicked: str | None = None,
        evidence: str | None = None,
    ) -> Decision:
        """A person answered the question asked at ``version`` (its message: ``clicked``;
        a reboot's: on ``evidence``, see ``approval``). Exactly once, enforced by the
        database."""
        await self._check_may_decide(case_id, user, choice)
        # a reboot's approvals are one per person: another approver's click is not a repeat
        key = (case_id, version, user if approval.is_bound(choice, evidence) else None)
        first = self._deciding.get(key)
        if first is not None:  # a double click, or Slack's retry: this process has one going
            await asyncio.wait({first})
            if not first.cancelled() and first.exception() is None:
                won = first.result()  # the answer: no need to ask the database who gave it
                choice_of = won.choice.value if won.choice else None
                raise refused(Rejected(Refusal.DECIDED, choice_of, won.user), case_id)
        task = asyncio.ensure_future(
            self._decide(case_id, version, choice, user, clicked, evidence)
        )
        self._deciding[key] = task  # before any wait: the next click of it finds this one
        try:
            return await task
        finally:
            if self._deciding.get(key) is task:
                del self._deciding[key]

    async def _check_may_decide(self, case_id: int, user: str, choice: Choice) -> None:
        requested_by = None
        if choice == Choice.APPROVE_REBOOT and self.config.two_person:
            async with self.db.read() as session:
                row = await cases.get_case(session, case_id)
            requested_by = None if row is None else row.requested_by
        await self.access.check_may_decide(user, choice, requested_by)

    async def _decide(
        self,
        case_id: int,
        version: int,
        choice: Choice,
        user: str,
        clicked: str | None,
        evidence: str | None,
    ) -> Decision:
        note = Note(actor=user, clicked=clicked, shown=version)
        bound = approval.is_bound(choice, evidence)
        for _ in range(_REBASES):  # other approvers may move the case on meanwhile
            async with self.db.read() as session:
                row = await cases.get_case(session, case_id)
            if row is None:
                raise CaseNotFound(str(case_id))
            state = CaseState.from_json(row.state)
            rebased = bound and approval.counts_now(state, choice, user, evidence or "")
            at = row.version if rebased else version
            if at != row.version:  # a late click: no need to queue for the database's writer
                raise refused(await answered(self.ctx, case_id, version), case_id)
            result = await apply(self.ctx, case_id, at, Decided(choice, user), note)
            if isinstance(result, Rejected) and result.reason == Refusal.INVALID:
                result = Rejected(Refusal.STALE)
            if not (rebased and isinstance(result, Rejected)):
                break  # counted, or refused for good; else another approver came first
        applied = self.run(result, case_id)
        return Decision(applied.before, applied.after, applied.point, choice, user)
