"""Work carried out as procrastinate jobs on the bot's PostgreSQL, by whichever replica is free.

- A unit of work writes its work as jobs in its own transaction (``record``): a change is
  never committed without the work it causes, nor work enqueued for a change rolled back.
- Each job carries its case as the change left it (``Work.to_json``). Jobs of one appliance
  run one after another (``lock``), in the order they were written; one case version asks
  for each effect once (``queueing_lock``).
- An effect that fails in passing is tried again by procrastinate (``RETRIES``). The reboot
  is never tried again: a reboot whose outcome is uncertain is asked again of the approver.
- ``takeover`` (every ``TAKEOVER_EVERY`` s, once across replicas): a job of a replica that
  stopped sending heartbeats for ``stall_seconds`` is retried (a reboot is failed instead),
  and an open case that waits for the bot's own work and has none gets its work again.
- ``cleanup`` (hourly, once across replicas): jobs finished ``KEEP_HOURS`` ago are deleted.
- ``sweep`` (every ``watch_seconds``, once across replicas): the fleet watch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.jobs import Job, Status
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from bot.engine import recovery
from bot.engine.context import Context
from bot.engine.executor import RETRIES, TRANSIENT, advance
from bot.engine.pacing import backoff
from bot.engine.tasks import TaskTracker
from bot.engine.unit import view_of
from bot.engine.work import Work, version_key, version_key_of
from bot.logs import about_case
from bot.presenter import CaseView
from bot.runbook.messages import Instruct, RunStep
from bot.schedule import cron_every
from storage import cases

log = logging.getLogger(__name__)

EFFECT = "ddi_bot.effect"
REBOOT = "ddi_bot.reboot"
TAKEOVER = "ddi_bot.takeover"
CLEANUP = "ddi_bot.cleanup"
SWEEP = "ddi_bot.sweep"
KEEP_HOURS = 7 * 24  # finished jobs are kept this long (takeover reads those of open cases)
TAKEOVER_EVERY = 10  # seconds between two takeovers (a cron seconds field: divides 60)
GIVE_UP_AFTER = 3  # failed jobs of one case version and effect before takeover leaves it
TAKEOVER_LOCK = 4242002  # advisory lock: one takeover at a time, across replicas
ACTIVE = (Status.TODO.value, Status.DOING.value)
# seconds between two looks for jobs besides the notification of a new one: a case's next
# effect is written while its current one still holds the appliance's lock, and a worker
# looks again only at its next poll once that job ends (a delay at every step of a case)
POLL = 0.2


def conninfo(url: str) -> str:
    """The libpq URL procrastinate connects with, from the bot's SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass(frozen=True)
class JobSettings:
    url: str  # the bot's database URL (PostgreSQL)
    stall_seconds: float = 60.0  # a replica silent this long has its jobs taken over
    concurrency: int = 16  # jobs one replica runs at once
    watch_seconds: int = 0  # the fleet watch's sweep, as a periodic job; 0: none


class JobQueue:
    """The job queue of one replica: records, defers and runs the engine's work."""

    def __init__(self, ctx: Context, settings: JobSettings, tasks: TaskTracker) -> None:
        self.ctx = ctx
        self.settings = settings
        self.tasks = tasks
        self.app = procrastinate.App(
            # (procrastinate checks a pooled connection before it lends it out)
            connector=procrastinate.PsycopgConnector(
                conninfo=conninfo(settings.url), min_size=1, max_size=4
            )
        )
        retry = procrastinate.RetryStrategy(
            max_attempts=RETRIES, linear_wait=2, retry_exceptions=set(TRANSIENT)
        )
        self.effect = self.app.task(name=EFFECT, retry=retry)(self._effect)
        self.reboot = self.app.task(name=REBOOT, retry=False)(self._effect)
        # no ``lock``: a takeover job left "doing" by a replica killed while it ran would
        # hold it, and block every later takeover; takeovers take an advisory lock instead
        takeover = self.app.task(name=TAKEOVER, queueing_lock=TAKEOVER)(self._takeover_job)
        self.app.periodic(cron=f"* * * * * */{TAKEOVER_EVERY}", periodic_id=TAKEOVER)(takeover)
        cleanup = self.app.task(name=CLEANUP, queueing_lock=CLEANUP)(self._cleanup_job)
        self.app.periodic(cron="17 * * * *", periodic_id=CLEANUP)(cleanup)
        # the fleet watch's sweep (the engine's, with what it does about the alerts): once
        # across replicas per period, one at a time (``lock``: a slow sweep is not overtaken
        # by the next, whose findings it would then overwrite with older ones); one cut short
        # by a replica that died is failed by the takeover, and the next period's runs
        self.sweeper: Callable[[], Awaitable[object]] | None = None
        cron = cron_every(settings.watch_seconds) if settings.watch_seconds else None
        if cron is not None:
            sweep = self.app.task(name=SWEEP, queueing_lock=SWEEP, lock=SWEEP)(self._sweep_job)
            self.app.periodic(cron=cron, periodic_id=SWEEP)(sweep)
        self._opened = False
        # why this replica's worker does not run jobs now (None: it runs, or never started)
        self.worker_problem: str | None = None

    # --- lifecycle ----------------------------------------------------------------------------

    async def open(self) -> None:
        await self.app.open_async()
        self._opened = True

    async def close(self) -> None:
        if self._opened:
            await self.app.close_async()
            self._opened = False

    async def run_worker(self, name: str, grace: float = 0.0) -> None:
        """Run jobs until cancelled; a cancel lets running jobs end for ``grace`` seconds (a
        job cut short runs again, on this replica or another, through ``takeover``)."""
        stall = self.settings.stall_seconds
        failures = 0
        while True:  # procrastinate's worker stops on a database error: start it again
            self.worker_problem = None
            try:
                await self.app.run_worker_async(
                    name=name,
                    concurrency=self.settings.concurrency,
                    wait=True,
                    install_signal_handlers=False,
                    delete_jobs="never",
                    update_heartbeat_interval=max(1.0, min(10.0, stall / 4)),
                    stalled_worker_timeout=stall,
                    fetch_job_polling_interval=POLL,
                    shutdown_graceful_timeout=grace,
                )
                problem = "stopped"
            except Exception as exc:
                problem = f"failed ({type(exc).__name__}: {exc})"
            failures += 1
            wait = backoff(failures, first=1.0, cap=30.0)
            self.worker_problem = f"the worker {problem}; starting again"
            log.error("jobs: the worker %s; starting it again in %.0f s", problem, wait)
            await asyncio.sleep(wait)

    # --- the Dispatch port --------------------------------------------------------------------

    async def record(self, session: AsyncSession, work: Sequence[Work]) -> None:
        """A ``Recorder``: ``work`` as jobs, in the transaction of ``session``."""
        if not work:
            return
        connection = await (await session.connection()).get_raw_connection()
        jobs = [self._job(item) for item in work]
        await self.app.job_manager.batch_defer_jobs_async(
            jobs=jobs, connection=connection.driver_connection
        )

    def submit(self, work: Sequence[Work]) -> None:
        """Recorded work is already in the queue: a worker of any replica takes it."""

    def start(self, work: Sequence[Work]) -> None:
        if work:
            self.tasks.spawn(self.defer(work), f"defer-{work[0].view.case_id}")

    async def defer(self, work: Sequence[Work]) -> int:
        """Enqueue work no unit of work recorded; work of a case version already waiting
        in the queue is not enqueued twice. How many jobs were enqueued."""
        enqueued = 0
        active = await self._active([item.key() for item in work])
        for item in work:
            if item.key() in active:
                continue  # this case version's effect waits or runs already
            try:
                await self.app.job_manager.defer_job_async(self._job(item))
            except AlreadyEnqueued:
                continue
            enqueued += 1
        return enqueued

    def _job(self, item: Work) -> Job:
        task = self.reboot if item.is_reboot else self.effect
        return task.configure(
            lock=f"appliance:{item.view.appliance}",
            queueing_lock=item.key(),
            task_kwargs={"work": item.to_json()},
        ).job

    # --- the worker's side --------------------------------------------------------------------

    async def _effect(self, work: dict[str, Any]) -> None:
        item = Work.from_json(work)
        await self.ctx.foreground.wait_turn()
        if isinstance(item.effect, RunStep | Instruct) and await self._moved_on(item):
            return  # run again after a takeover, its case went on: its result would be dropped
        await advance(self.ctx, item)  # what follows was recorded by the unit of work

    async def _moved_on(self, item: Work) -> bool:
        async with self.ctx.db.read() as session:
            version = await cases.version_of(session, item.view.case_id)
        moved = version != item.view.version
        if moved:
            log.info("case %s: %s of version %d not run: the case moved on",
                     item.view.case_id, type(item.effect).__name__, item.view.version)  # fmt: skip
        return moved

    async def _takeover_job(self, timestamp: int) -> None:
        await self.takeover()

    async def _sweep_job(self, timestamp: int) -> None:
        if self.sweeper is not None:
            await self.sweeper()

    async def _cleanup_job(self, timestamp: int) -> None:
        await self.cleanup()

    async def cleanup(self, older_than_hours: int = KEEP_HOURS) -> None:
        """Forget jobs finished that long ago (hourly, once across replicas): the queue's
        table does not grow for ever."""
        await self.app.job_manager.delete_old_jobs(
            nb_hours=older_than_hours,
            include_failed=True,
            include_cancelled=True,
            include_aborted=True,
        )

    async def takeover(self) -> tuple[int, int]:
        """(jobs of stalled replicas taken over, open cases given their work again); one
        replica at a time (another one busy with it: nothing)."""
        async with self.ctx.db.write() as session:
            held = await session.execute(
                text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": TAKEOVER_LOCK}
            )
            if not held.scalar_one():
                return 0, 0
            stalled = await self._take_over_stalled()
            return stalled, await self.reconcile()

    async def _take_over_stalled(self) -> int:
        """Jobs of replicas silent for ``stall_seconds``: an effect runs again; a reboot is
        failed (never sent twice: the approver is asked again), and so is a periodic job (the
        next period does its work) or an effect whose retry is refused (one of its case
        version waits already)."""
        manager = self.app.job_manager
        stalled = list(
            await manager.get_stalled_jobs(seconds_since_heartbeat=self.settings.stall_seconds)
        )
        for job in stalled:
            assert job.id is not None
            if job.task_name == EFFECT:
                try:
                    await manager.retry_job(job)
                    continue
                except Exception as exc:  # a waiting duplicate holds its queueing lock
                    log.info("job %s is not run again (%s): failed instead", job.id, exc)
            with contextlib.suppress(Exception):  # finished meanwhile
                await manager.finish_job_by_id_async(job.id, Status.FAILED, delete_job=False)
        if stalled:
            log.warning("took over %d job(s) of a replica that stopped", len(stalled))
        return len(stalled)

    async def resume(self) -> int:
        """At start: every open case where it stood (``reconcile``, then what a person or a
        timer moves on: its question asked, its timer armed). How many cases are open."""
        async with self.ctx.db.read() as session:
            rows = list(await cases.open_cases(session))
        await self.takeover()
        for view in (view_of(row) for row in rows):
            if recovery.has_work(view.state.phase):
                continue
            try:
                await recovery.resume_one(self.ctx, view)
            except Exception:
                log.exception("case %s: could not be resumed", view.case_id)
        return len(rows)

    async def reconcile(self) -> int:
        """Give their work again to open cases that wait for the bot's own work and have no
        job for it (a job cut short, a replica stopped). How many jobs were enqueued."""
        async with self.ctx.db.read() as session:
            waiting = [view_of(row) for row in await cases.open_cases(session)]
            waiting = [view for view in waiting if recovery.has_work(view.state.phase)]
            jobs = await self._jobs_of(waiting, session)
        restarted = 0
        for view in waiting:
            mine = jobs.get(version_key(view.case_id, view.version), {})
            if any(status in ACTIVE for statuses in mine.values() for status in statuses):
                continue
            try:
                with about_case(view.case_id, view.appliance):
                    restarted += await self._restart(view, mine)
            except Exception:
                log.exception("case %s: could not be given its work again", view.case_id)
        return restarted

    async def _restart(self, view: CaseView, mine: dict[str, list[str]]) -> int:
        resumed = await recovery.resume_one(self.ctx, view)
        fresh = []
        for item in resumed.fresh:
            statuses = mine.get(item.key(), [])
            if Status.SUCCEEDED.value in statuses:
                continue  # done: the case waits for a person's answer
            failed = statuses.count(Status.FAILED.value)  # a job cut short at a stop: not
            if failed >= GIVE_UP_AFTER:
                log.error("case %s: %s failed %d times; left for a person to re-run",
                          view.case_id, type(item.effect).__name__, failed)  # fmt: skip
                continue
            fresh.append(item)
        if fresh or resumed.recorded:
            log.info("case %s: given its work again (%d job(s))", view.case_id, len(fresh))
        return await self.defer(fresh) + len(resumed.recorded)

    async def _jobs_of(
        self, views: Sequence[CaseView], session: AsyncSession
    ) -> dict[str, dict[str, list[str]]]:
        """The jobs of these cases at their versions: version key -> job key -> statuses."""
        if not views:
            return {}
        rows = await session.execute(
            text(
                "SELECT queueing_lock, status::text FROM procrastinate_jobs "
                "WHERE task_name IN (:effect, :reboot) AND queueing_lock LIKE ANY(:prefixes)"
            ),
            {
                "effect": EFFECT,
                "reboot": REBOOT,
                "prefixes": [version_key(v.case_id, v.version) + "%" for v in views],
            },
        )
        found: dict[str, dict[str, list[str]]] = {}
        for key, status in rows:
            found.setdefault(version_key_of(key), {}).setdefault(key, []).append(status)
        return found

    async def _active(self, keys: Sequence[str]) -> set[str]:
        """Those of ``keys`` whose job waits or runs."""
        if not keys:
            return set()
        async with self.ctx.db.read() as session:
            rows = await session.execute(
                text(
                    "SELECT queueing_lock FROM procrastinate_jobs "
                    "WHERE queueing_lock = ANY(:keys) AND status IN ('todo', 'doing')"
                ),
                {"keys": list(keys)},
            )
            return {str(key) for (key,) in rows}

    async def busy(self) -> bool:
        """Whether any job of the engine waits or runs (the demo and tests wait for none)."""
        async with self.ctx.db.read() as session:
            found = await session.execute(
                text(
                    "SELECT 1 FROM procrastinate_jobs WHERE task_name IN (:effect, :reboot) "
                    "AND status IN ('todo', 'doing') LIMIT 1"
                ),
                {"effect": EFFECT, "reboot": REBOOT},
            )
            return found.first() is not None


async def stop_worker(worker: asyncio.Task[None], grace: float) -> None:
    """Cancel the worker once and let it end its jobs (``grace``: the worker's own shutdown
    timeout), record how they ended and unregister; cancelling again would cut that short,
    and closing the pool under it would lose how they ended."""
    worker.cancel()
    await asyncio.wait([worker], timeout=grace + 10.0)
