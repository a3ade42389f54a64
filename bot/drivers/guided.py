"""The guided driver: a person does each step on the sensor's console (DESIGN.md §3).

The runbook asks a person for every step of a guided case (``Instruct`` effects; the answers
come through ``bot.engine.answers`` and ``bot.engine.uploads``); this driver only does what
the bot can do by itself: tell whether the console answers again after a reboot.
"""

from __future__ import annotations

from bot.drivers.base import DriverContext
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
