"""An alert as people see it: what is wrong, where, since when, and what became of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.watch.findings import FLEET, Condition

OPEN_CASE = "open_case"  # the action of an alert's "Open a case" button


class Closed(StrEnum):
    """Why an alert is no longer open."""

    RECOVERED = "recovered"  # a sweep no longer found its condition
    FOLDED = "folded"  # its sensor is part of a fleet alert now
    GONE = "gone"  # its appliance left the inventory
    UNDELIVERED = "undelivered"  # Slack refused its message: raised again at the next sweep


@dataclass(frozen=True)
class Alert:
    alert_id: int
    condition: Condition
    appliance: str  # ``FLEET`` for a fleet alert
    target: str  # the console or the portal server; "" for a silence
    opened_at: datetime
    detail: str = ""  # the probe's failure
    since: datetime | None = None  # a silence: the last detection
    per_day: float | None = None  # a silence: the sensor's usual rate
    members: tuple[str, ...] = ()  # a fleet alert: the appliances it stands for, sorted
    cleared_at: datetime | None = None
    case_id: int | None = None  # the case opened from it
    case_by: str | None = None  # who opened that case
    closed: Closed | None = None  # why it is no longer open (with ``cleared_at``)
    fleet_channel: str | None = None  # folded: where the fleet alert it is part of is

    @property
    def fleet(self) -> bool:
        return self.appliance == FLEET
