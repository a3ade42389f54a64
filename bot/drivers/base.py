"""What every appliance driver provides: one coroutine per runbook step, plain results.

Drivers raise ``bot.errors.DriverError`` subclasses for anything that prevents a step from
producing a result (unreachable, timeout, TLS failure, nonsense answer). A *result* that says
something is wrong (the connection test failed, no detections, empty capture) is not an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class ConnectionTestResult:
    verified: bool
    message: str  # exact text the console shows, e.g. "Verified Connection"


@dataclass(frozen=True)
class DetectionCount:
    count: int
    period_start: datetime
    period_end: datetime


@dataclass(frozen=True)
class CaptureExport:
    filename: str
    content: bytes  # the zip as the console exports it


@dataclass(frozen=True)
class DebugBundle:
    filename: str
    content: bytes


class Watch(Protocol):
    """What the bot can tell by itself of any appliance: whether its console answers (after a
    reboot). Every driver is one; a guided sensor's driver is only that."""

    async def is_up(self) -> bool: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class Driver(Watch, Protocol):
    """One appliance's console, reached however the driver reaches it: the five steps."""

    async def test_connection(self) -> ConnectionTestResult: ...

    async def query_detections(self, start: datetime, end: datetime) -> DetectionCount: ...

    async def capture(self, seconds: float) -> CaptureExport: ...

    async def export_debug_logs(self) -> DebugBundle: ...

    async def reboot(self) -> None: ...


@dataclass(frozen=True)
class DriverContext:
    """What the bot hands a driver factory besides the appliance itself."""

    simulator_url: str | None  # the embedded simulator, when one runs in this process
    timeout: float = 10.0  # seconds for one request to the appliance
    capture_seconds: float = 5.0  # how long step 3 captures
