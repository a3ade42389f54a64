"""The guided driver: a person does each step on the sensor's console (DESIGN.md §3).

The engine posts the console instructions and takes the answers (``bot.engine.guide``); this
driver only does what the bot can do by itself: tell whether the console answers again after
a reboot. Its other steps are never called.
"""

from __future__ import annotations

from datetime import datetime

from bot.drivers.base import (
    CaptureExport,
    ConnectionTestResult,
    DebugBundle,
    DetectionCount,
    DriverContext,
)
from bot.errors import ConfigError
from bot.inventory import Appliance
from bot.probes import console_answers


class GuidedDriver:
    def __init__(self, appliance: Appliance, context: DriverContext) -> None:
        self.appliance = appliance
        self.timeout = context.timeout

    async def is_up(self) -> bool:
        """Whether the console answers (TCP and a TLS handshake). Without a console address the
        bot cannot tell: it says yes, so after the reboot grace period the person is asked for
        the connection test again, which they can only do once the console is back."""
        if not self.appliance.console:
            return True
        return await console_answers(self.appliance.console, timeout=self.timeout)

    async def aclose(self) -> None:
        return None

    def _by_a_person(self) -> ConfigError:
        return ConfigError(f"appliance {self.appliance.name!r}: guided steps are done by a person")

    async def test_connection(self) -> ConnectionTestResult:
        raise self._by_a_person()

    async def query_detections(self, start: datetime, end: datetime) -> DetectionCount:
        raise self._by_a_person()

    async def capture(self, seconds: float) -> CaptureExport:
        raise self._by_a_person()

    async def export_debug_logs(self) -> DebugBundle:
        raise self._by_a_person()

    async def reboot(self) -> None:
        raise self._by_a_person()
