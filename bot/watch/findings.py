"""What one sweep of the fleet found wrong with each appliance, and the alerts' identities.

A *finding* is one condition of one appliance seen in a sweep: its console unreachable, one
of its portal (TMSP) servers unreachable from the bot, or its syslog feed silent. An alert is
raised for a condition (never once per sweep) and cleared when a later sweep no longer finds
it. A *fleet* alert stands for the same condition on many appliances at once (one cause
outside the sensors).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Condition(StrEnum):
    CONSOLE = "console"  # the console does not answer (DNS, TCP, TLS) or its pin changed
    PORTAL = "portal"  # a TMSP server the sensor needs is unreachable from the bot
    SILENT = "silent"  # no syslog detection for the silence limit, while a receiver listened


FLEET = "fleet"  # the "appliance" part of a fleet alert's key


@dataclass(frozen=True)
class Finding:
    appliance: str
    condition: Condition
    target: str = ""  # the console or the portal server; "" for a silence
    detail: str = ""  # why: the probe's failure ("timeout", "refused"...)
    since: datetime | None = None  # a silence: the last detection
    per_day: float | None = None  # a silence: the sensor's usual rate


def alert_key(condition: Condition, appliance: str, target: str = "") -> str:
    """One open alert per key: the condition, on what (an appliance or the fleet), towards what.
    A console alert is the appliance's whatever its address; a portal alert is per server."""
    if condition != Condition.PORTAL:
        target = ""
    return f"{condition.value}:{appliance}:{target}"


def fleet_key(condition: Condition, target: str = "") -> str:
    return alert_key(condition, FLEET, target)


def key_of(finding: Finding) -> str:
    return alert_key(finding.condition, finding.appliance, finding.target)
