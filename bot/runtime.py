"""Wires the pieces for one process: database, inventory, embedded simulator, engine, timers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.drivers.base import Driver, DriverContext
from bot.drivers.registry import make_driver
from bot.engine import Engine, EngineConfig
from bot.engine.core import utcnow
from bot.engine.scheduler import run_timers
from bot.errors import ConfigError
from bot.files import FileSource
from bot.inventory import Appliance, Inventory, demo_inventory, load_inventory
from bot.notifier import Notifier
from bot.runbook import Timing
from bot.settings import Settings
from bot.simulator.server import SimulatorHandle, create_app, start_simulator
from bot.syslog.service import SyslogService
from storage.db import make_engine, make_sessions, upgrade

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    engine: Engine
    db: AsyncEngine
    simulator: SimulatorHandle | None
    timer_task: asyncio.Task[None]
    syslog: SyslogService | None = None

    async def stop(self, drain: bool = True, grace: float | None = None) -> None:
        """Stop timers, then let running work finish (up to ``grace`` seconds) or cancel it.

        Whatever is cancelled is picked up again by ``resume`` at the next start.
        """
        while not self.timer_task.done():
            self.timer_task.cancel()
            await asyncio.wait([self.timer_task], timeout=1.0)
        if drain:
            try:
                await asyncio.wait_for(self.engine.tasks.drain(), timeout=grace)
            except TimeoutError:
                log.warning("stopping: work still running after %s s is cancelled", grace)
        await self.engine.tasks.cancel_all()
        if self.syslog is not None:
            await self.syslog.stop()
        if self.simulator is not None:
            await self.simulator.stop()
        await self.db.dispose()


def timing_from(settings: Settings) -> Timing:
    return Timing(
        recheck_delay=settings.recheck_hours * 3600,
        poll_interval=settings.reboot_poll_seconds,
        reboot_timeout=settings.reboot_timeout_minutes * 60,
        approval_ttl=settings.approval_ttl_hours * 3600,
    )


async def start_runtime(
    settings: Settings,
    notifier: Notifier,
    *,
    inventory: Inventory | None = None,
    timing: Timing | None = None,
    simulator_reboot_seconds: float = 5.0,
    artifacts: Path | None = None,
    timer_poll: float = 5.0,
    clock: Callable[[], datetime] = utcnow,
    files: FileSource | None = None,
    syslog_flush: float = 10.0,
) -> Runtime:
    if inventory is None:
        inventory = (
            load_inventory(settings.inventory_path) if settings.inventory_path else demo_inventory()
        )
    db = make_engine(settings.database_url)
    await upgrade(db)
    simulator = None
    embedded = [a for a in inventory.simulated() if not a.simulator_url]
    if embedded:
        app = create_app(embedded, reboot_seconds=simulator_reboot_seconds)
        simulator = await start_simulator(app)
        log.info("embedded simulator for %d appliance(s) at %s", len(embedded), simulator.url)
    context = DriverContext(
        simulator_url=simulator.url if simulator else None,
        timeout=settings.appliance_timeout,
        capture_seconds=settings.capture_seconds,
    )

    def drivers(appliance: Appliance) -> Driver:
        return make_driver(appliance, context)

    engine = Engine(
        sessions=make_sessions(db),
        inventory=inventory,
        drivers=drivers,
        notifier=notifier,
        config=EngineConfig(
            lang=settings.lang,
            approvers=settings.approvers,
            operators=settings.operators,
            timing=timing or timing_from(settings),
            capture_seconds=settings.capture_seconds,
            artifacts=artifacts or settings.data_dir,
            max_upload_mb=settings.max_upload_mb,
            probe_timeout=settings.appliance_timeout,
            tz=ZoneInfo(settings.timezone),
        ),
        clock=clock,
        files=files,
    )
    await engine.sync_inventory()
    syslog = None
    if settings.syslog_udp is not None or settings.syslog_tcp is not None:
        # before any case resumes: if the port is taken, nothing has started yet
        syslog = SyslogService(
            settings.database_url,
            inventory,
            host=settings.syslog_host,
            udp_port=settings.syslog_udp,
            tcp_port=settings.syslog_tcp,
            flush_interval=syslog_flush,
        )
        try:
            await syslog.start()
        except OSError as exc:
            if simulator is not None:
                await simulator.stop()
            await db.dispose()
            raise ConfigError(
                f"cannot listen for syslog on {settings.syslog_host} "
                f"(udp {settings.syslog_udp}, tcp {settings.syslog_tcp}): {exc.strerror or exc}"
            ) from None
        engine.syslog_listening = syslog.listening_since
    try:
        resumed = await engine.resume()
    except BaseException:  # leave nothing running or bound behind
        await engine.tasks.cancel_all()
        if syslog is not None:
            await syslog.stop()
        if simulator is not None:
            await simulator.stop()
        await db.dispose()
        raise
    if resumed:
        log.info("resumed %d open case(s)", resumed)
    timer_task = asyncio.create_task(run_timers(engine, timer_poll), name="timers")
    return Runtime(engine, db, simulator, timer_task, syslog)
