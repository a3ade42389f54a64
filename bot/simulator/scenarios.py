"""What each simulated appliance scenario does, as pure data and small state transitions.

No I/O here: ``bot.simulator.server`` turns these answers into HTTP responses.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime

VERIFIED = "Verified Connection"
# Wording modelled on what a DDI console shows when the portal cannot be reached.
TMSP_UNREACHABLE = (
    "Unable to connect to the Threat Management Services Portal. "
    "Verify the server address, port and proxy settings, and try again."
)
TMSP_REJECTED = (
    "Connection failed: the Threat Management Services Portal did not respond "
    "(log server 443/tcp timed out)."
)


@dataclass(frozen=True)
class Behaviour:
    """How one scenario answers each runbook step."""

    answers: bool  # False: every request hangs (the sensor's console is unreachable)
    verified_before_reboot: bool
    verified_after_reboot: bool
    failure_message: str
    detections: bool
    traffic: bool


BEHAVIOURS: dict[str, Behaviour] = {
    "healthy": Behaviour(True, True, True, TMSP_UNREACHABLE, True, True),
    "tmsp-down": Behaviour(True, False, True, TMSP_UNREACHABLE, True, True),
    "quiet": Behaviour(True, True, True, TMSP_UNREACHABLE, False, True),
    "no-traffic": Behaviour(True, True, True, TMSP_UNREACHABLE, False, False),
    "unreachable": Behaviour(False, False, False, TMSP_UNREACHABLE, False, False),
    "reboot-fails": Behaviour(True, False, False, TMSP_REJECTED, True, True),
}


def behaviour(scenario: str) -> Behaviour:
    """The behaviour of ``scenario``; ``KeyError`` names the scenario if it does not exist."""
    try:
        return BEHAVIOURS[scenario]
    except KeyError:
        raise KeyError(f"unknown scenario {scenario!r}") from None


@dataclass
class SimulatedAppliance:
    """Mutable state of one simulated sensor."""

    name: str
    scenario: str
    rebooting_until: float | None = None  # monotonic clock; None when up
    reboots: int = 0
    capturing: bool = False
    capture_started: float | None = None  # epoch seconds
    capture_stopped: float | None = None  # epoch seconds; set once a capture can be exported

    @property
    def behaviour(self) -> Behaviour:
        return behaviour(self.scenario)

    def is_rebooting(self, now: float) -> bool:
        """Whether the sensor is still rebooting at monotonic time ``now``."""
        if self.rebooting_until is not None and now >= self.rebooting_until:
            self.rebooting_until = None
        return self.rebooting_until is not None

    def start_reboot(self, now: float, seconds: float) -> None:
        """Begin a reboot: in-memory capture state is lost, as on a real sensor."""
        self.reboots += 1
        self.rebooting_until = now + seconds
        self.capturing = False
        self.capture_started = self.capture_stopped = None

    def connection_test(self) -> tuple[bool, str]:
        """(verified, exact console message) for step 1."""
        b = self.behaviour
        verified = b.verified_after_reboot if self.reboots else b.verified_before_reboot
        return verified, VERIFIED if verified else b.failure_message

    def detection_count(self, start: datetime, end: datetime) -> int:
        """A deterministic, plausible number of threat detections in ``[start, end)``."""
        if not self.behaviour.detections:
            return 0
        hours = max((end - start).total_seconds(), 0.0) / 3600
        per_hour = 1 + zlib.crc32(self.name.encode()) % 5
        return max(1, round(hours * per_hour))

    def start_capture(self, now: float) -> bool:
        """Start capturing; False if a capture is already running."""
        if self.capturing:
            return False
        self.capturing = True
        self.capture_started, self.capture_stopped = now, None
        return True

    def stop_capture(self, now: float) -> bool:
        """Stop capturing; False if no capture is running."""
        if not self.capturing:
            return False
        self.capturing = False
        self.capture_stopped = now
        return True
