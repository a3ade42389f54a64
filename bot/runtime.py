"""Wires the pieces for one process: database, inventory, embedded simulator, drivers, the
engine and its loops (timers, outbox delivery)."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.drivers.base import DriverContext
from bot.drivers.pool import DriverPool
from bot.drivers.registry import check_driver
from bot.engine import Engine, EngineConfig
from bot.engine.context import utcnow
from bot.engine.jobs import JobSettings, stop_worker
from bot.engine.roster import Groups
from bot.errors import ConfigError
from bot.files import FileSource
from bot.inventory import Inventory, demo_inventory, load_inventory
from bot.messenger import Messenger
from bot.networks import AddressFilter
from bot.runbook import Timing
from bot.settings import Settings
from bot.simulator.server import SimulatorHandle, create_app, start_simulator
from bot.startup import check_data_dir, check_shared_data_dir, open_database
from bot.syslog.service import SyslogService
from bot.syslog.tls import server_context
from storage.db import Database

log = logging.getLogger(__name__)
STOP_GRACE = 5.0  # seconds a job may take to end when the process stops


@dataclass
class Runtime:
    engine: Engine
    db: Database
    drivers: DriverPool
    simulator: SimulatorHandle | None
    loops: list[asyncio.Task[None]] = field(default_factory=list)
    syslog: SyslogService | None = None
    worker: asyncio.Task[None] | None = None  # PostgreSQL: this replica's job worker

    async def stop(self, drain: bool = True, grace: float | None = None) -> None:
        """Stop the timers, let running work finish (up to ``grace`` seconds) or cancel it,
        then stop delivering. Whatever is cancelled is picked up again at the next start
        (with jobs: by another replica, or this one's next start)."""
        timers, *others = self.loops
        await _cancel(timers)
        began = time.monotonic()
        if self.worker is not None:  # its jobs end within the worker's STOP_GRACE
            await stop_worker(self.worker, STOP_GRACE)
        if drain:
            left = None if grace is None else max(0.0, grace - (time.monotonic() - began))
            try:  # the grace is for all running work: the worker's jobs and this process's
                await asyncio.wait_for(self.engine.tasks.drain(), timeout=left)
            except TimeoutError:
                log.warning("stopping: work still running after %s s is cancelled", grace)
        await self.engine.tasks.cancel_all()
        if drain:  # a message being posted is seen through, so it is known to be sent
            await self.engine.delivery.finish(grace=min(grace or 2.0, 2.0))
        for loop in others:
            await _cancel(loop)
        await self.engine.delivery.release()  # what it held goes back now, not at lease end
        if self.syslog is not None:
            await self.syslog.stop()
        await self.drivers.aclose()
        if self.simulator is not None:
            await self.simulator.stop()
        if self.engine.jobs is not None:
            await self.engine.jobs.close()
        await self.db.dispose()


async def _cancel(task: asyncio.Task[None]) -> None:
    while not task.done():
        task.cancel()
        await asyncio.wait([task], timeout=1.0)


def timing_from(settings: Settings) -> Timing:
    return Timing(
        recheck_delay=settings.recheck_hours * 3600,
        poll_interval=settings.reboot_poll_seconds,
        reboot_timeout=settings.reboot_timeout_minutes * 60,
        approval_ttl=settings.approval_ttl_hours * 3600,
        approvals_required=settings.approvals_required,
    )


def config_from(settings: Settings, timing: Timing, artifacts: Path) -> EngineConfig:
    return EngineConfig(
        lang=settings.lang,
        approvers=settings.approvers,
        operators=settings.operators,
        two_person=settings.two_person,
        timing=timing,
        capture_seconds=settings.capture_seconds,
        artifacts=artifacts,
        max_upload_mb=settings.max_upload_mb,
        probe_timeout=settings.appliance_timeout,
        tz=ZoneInfo(settings.timezone),
        step_concurrency=settings.step_concurrency,
        posts_per_second=settings.posts_per_second,
        delivery_lease=4 * settings.slack_timeout + 10.0,
        watch_seconds=settings.watch_seconds,
        silence=timedelta(minutes=settings.silence_minutes),
        fleet_quorum=settings.fleet_quorum,
        alert_channel=settings.alert_channel,
        watch_opens_cases=settings.watch_opens_cases,
    )


async def start_runtime(
    settings: Settings,
    messenger: Messenger,
    *,
    inventory: Inventory | None = None,
    timing: Timing | None = None,
    simulator_reboot_seconds: float = 5.0,
    artifacts: Path | None = None,
    timer_poll: float = 5.0,
    clock: Callable[[], datetime] = utcnow,
    files: FileSource | None = None,
    syslog_flush: float = 10.0,
    deliver: bool = True,
    groups: Groups | None = None,
) -> Runtime:
    """Everything one process runs; ``deliver=False`` leaves the outbox undelivered (tests
    that look at what was queued)."""
    if inventory is None:
        inventory = (
            load_inventory(settings.inventory_path, check=check_driver)
            if settings.inventory_path
            else demo_inventory()
        )
    data_dir = artifacts or settings.data_dir
    check_data_dir(data_dir)
    db = await open_database(settings.database_url)
    try:
        await check_shared_data_dir(db, data_dir)
    except BaseException:
        await db.dispose()
        raise
    simulator = None
    embedded = [a for a in inventory.simulated() if not a.simulator_url]
    if embedded:
        app = create_app(embedded, reboot_seconds=simulator_reboot_seconds)
        simulator = await start_simulator(app)
        log.info("embedded simulator for %d appliance(s) at %s", len(embedded), simulator.url)
    drivers = DriverPool(
        DriverContext(
            simulator_url=simulator.url if simulator else None,
            timeout=settings.appliance_timeout,
            capture_seconds=settings.capture_seconds,
        )
    )
    config = config_from(settings, timing or timing_from(settings), artifacts or settings.data_dir)
    jobs = None
    if not db.sqlite:  # replicas share the database: work goes through its job queue
        jobs = JobSettings(
            settings.database_url,
            settings.stall_seconds,
            config.case_concurrency,
            watch_seconds=settings.watch_seconds,
        )
    engine = Engine(
        db=db,
        inventory=inventory,
        drivers=drivers,
        messenger=messenger,
        config=config,
        clock=clock,
        files=files,
        jobs=jobs,
        groups=groups,
    )
    runtime = Runtime(engine, db, drivers, simulator)
    try:
        if engine.jobs is not None:
            await engine.jobs.open()
        await engine.sync_inventory()
        if settings.syslog_listens:
            # before any case resumes: if the port is taken, nothing has started yet
            runtime.syslog = await _start_syslog(settings, inventory, syslog_flush)
        resumed = await engine.resume()
    except BaseException:  # leave nothing running or bound behind
        await engine.tasks.cancel_all()
        if runtime.syslog is not None:
            await runtime.syslog.stop()
        await drivers.aclose()
        if simulator is not None:
            await simulator.stop()
        if engine.jobs is not None:
            await engine.jobs.close()
        await db.dispose()
        raise
    if resumed:
        log.info("resumed %d open case(s)", resumed)
    runtime.loops.append(asyncio.create_task(engine.run_timers(timer_poll), name="timers"))
    if settings.watch_seconds and engine.jobs is None:  # with jobs: a periodic job, once
        runtime.loops.append(asyncio.create_task(engine.run_watch(), name="watch"))
    unrouted = [a.name for a in inventory.appliances if not a.channel]
    if settings.watch_seconds and unrouted and not settings.alert_channel:
        log.warning(
            "fleet watch: %d appliance(s) have no inventory channel (%s) and "
            "DDI_BOT_ALERT_CHANNEL is not set: their alerts, and fleet alerts, are only logged",
            len(unrouted), ", ".join(unrouted[:5]) + (", …" if len(unrouted) > 5 else ""),
        )  # fmt: skip
    if engine.jobs is not None:
        worker = engine.jobs.run_worker(f"ddi-bot-{os.getpid()}", grace=STOP_GRACE)
        runtime.worker = asyncio.create_task(worker, name="jobs")
    if deliver:
        runtime.loops.append(asyncio.create_task(engine.delivery.run(), name="outbox"))
    return runtime


async def _start_syslog(settings: Settings, inventory: Inventory, flush: float) -> SyslogService:
    tls = None
    if settings.syslog_tls is not None:
        assert settings.syslog_cert is not None and settings.syslog_key is not None
        tls = server_context(settings.syslog_cert, settings.syslog_key)
    syslog = SyslogService(
        settings.database_url,
        inventory,
        host=settings.syslog_host,
        udp_port=settings.syslog_udp,
        tcp_port=settings.syslog_tcp,
        tls_port=settings.syslog_tls,
        tls=tls,
        allow=AddressFilter(settings.syslog_allow) if settings.syslog_allow else None,
        flush_interval=flush,
    )
    try:
        await syslog.start()
    except OSError as exc:
        raise ConfigError(
            f"cannot listen for syslog on {settings.syslog_host} (udp {settings.syslog_udp}, "
            f"tcp {settings.syslog_tcp}, tls {settings.syslog_tls}): {exc.strerror or exc}"
        ) from None
    return syslog
