"""The plain dependencies every part of the engine works with, at the bottom of its imports:
the database, the clock, the inventory, the drivers, how messages are styled, the settings.

Nothing here does work; everything above takes a ``Context`` and does its part.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Protocol

from bot.drivers.base import Driver, Watch
from bot.engine.roster import Roster
from bot.engine.work import Recorder, record_nothing
from bot.errors import ConfigError, UnknownAppliance
from bot.files import FileSource
from bot.inventory import Appliance, Inventory
from bot.presenter import Style
from bot.runbook import Timing
from bot.status import SILENT_AFTER
from storage.db import Database


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class EngineConfig:
    lang: str = "en"
    approvers: frozenset[str] = frozenset()  # Slack user and user group ids
    operators: frozenset[str] | None = None  # None: anyone who can see the command
    two_person: bool = True  # whoever opened a case cannot approve its reboot
    timing: Timing = field(default_factory=Timing)
    capture_seconds: float = 5.0
    artifacts: Path = Path("ddi-bot-data")
    max_upload_mb: float = 512.0
    probe_timeout: float = 5.0  # seconds for each of the bot's own network probes
    upload_lease: float = 60.0  # seconds a claimed file may go unrenewed before it is retaken
    tz: tzinfo = UTC  # the consoles' time zone: periods are shown and exports read in it
    step_concurrency: int = 32  # steps (driver calls, probes) running at once; more queue
    case_concurrency: int = 16  # cases advancing at once (their effects, one after another)
    analysis_concurrency: int = max(1, os.cpu_count() or 1)  # capture analyses at once
    posts_per_second: float = 1.0  # per Slack channel, shared by every case posting in it
    burst: int = 3  # posts a quiet channel may take at once
    stuck_after: float = 600.0  # seconds a message may keep failing before it is reported
    retry_first: float = 1.0  # seconds before a failed message is tried again (then doubling)
    retry_max: float = 120.0  # the longest wait between two tries
    # seconds a process holds a message it is sending (several Slack timeouts): past that,
    # another process may take it over
    delivery_lease: float = 60.0
    watch_seconds: float = 0.0  # the fleet watch sweeps this often; 0: no sweeps
    silence: timedelta = SILENT_AFTER  # a feed without detections this long: silent
    fleet_quorum: int = 3  # appliances in one condition at once that make it a fleet alert
    alert_channel: str | None = None  # alerts of appliances whose inventory gives no channel
    watch_opens_cases: bool = False  # a sensor's own alert opens its case (not a guided one)
    watch_concurrency: int = 64  # probes of a sweep running at once


class Drivers(Protocol):
    """Drivers, built once per appliance and shared (never closed by their users)."""

    def get(self, appliance: Appliance) -> Watch:
        """Its driver: a ``Driver`` (the five steps) or, for a guided sensor, a ``Watch``."""
        ...

    def available(self, appliance: Appliance) -> None:
        """Raise ``ConfigError`` if the appliance's driver is not installed (cheap)."""
        ...


class Limits:
    """Back-pressure: work beyond these bounds waits its turn instead of failing."""

    def __init__(self, config: EngineConfig) -> None:
        self.steps = asyncio.Semaphore(config.step_concurrency)
        self.analyses = asyncio.Semaphore(config.analysis_concurrency)


class Wake:
    """Set when something was written that a loop should look at now, not at its next poll."""

    def __init__(self) -> None:
        self.outbox = asyncio.Event()
        self.timers = asyncio.Event()


class Foreground:
    """Slack requests being answered, each within Slack's 3 s: background work (a step to
    start, a message to deliver, a timer to fire) lets them go first, so that a burst of
    checks is answered before the work they cause competes with the answers."""

    QUIET = 0.02  # seconds after the last answer before background work goes on
    MOST = 0.5  # seconds background work waits at the most, however busy Slack keeps it

    def __init__(self) -> None:
        self.busy = 0
        self.last = 0.0  # time.monotonic() of the last answer
        self.idle = asyncio.Event()
        self.idle.set()

    @contextlib.contextmanager
    def answering(self) -> Iterator[None]:
        self.busy += 1
        self.idle.clear()
        try:
            yield
        finally:
            self.busy -= 1
            self.last = time.monotonic()
            if not self.busy:
                self.idle.set()

    async def wait_turn(self) -> None:
        """Return once no request is being answered (or after ``MOST`` seconds)."""
        deadline = time.monotonic() + self.MOST
        while (now := time.monotonic()) < deadline:
            if self.busy:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(deadline - now):
                        await self.idle.wait()
            elif (left := self.last + self.QUIET - now) > 0:
                await asyncio.sleep(min(left, deadline - now))
            else:
                return


@dataclass
class Context:
    db: Database
    inventory: Inventory
    drivers: Drivers
    style: Style
    config: EngineConfig
    clock: Callable[[], datetime] = utcnow
    files: FileSource | None = None
    roster: Roster = field(default_factory=Roster)  # who is in the roles' user groups
    limits: Limits = field(init=False)
    wake: Wake = field(default_factory=Wake)
    foreground: Foreground = field(default_factory=Foreground)
    # writes the work a unit of work leaves behind, in its transaction (a job queue); in one
    # process nothing is written and the work is run after the commit
    record_work: Recorder = record_nothing

    def __post_init__(self) -> None:
        self.limits = Limits(self.config)

    def step_driver(self, name: str) -> Driver:
        """The driver that runs the steps of appliance ``name``; ``ConfigError`` if it left
        the inventory or its driver cannot run steps (a guided sensor's only watches)."""
        appliance = self.appliance(name)
        if appliance is None:
            raise ConfigError(f"appliance {name!r} is no longer in the inventory")
        driver = self.drivers.get(appliance)
        if not isinstance(driver, Driver):
            raise ConfigError(f"appliance {name!r}: its driver cannot run steps")
        return driver

    def appliance(self, name: str) -> Appliance | None:
        """The appliance as the inventory has it now (it may have left since the case opened)."""
        try:
            return self.inventory.get(name)
        except UnknownAppliance:
            return None
