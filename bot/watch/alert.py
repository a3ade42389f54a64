"""An alert as people see it: what is wrong, where, since when, and what became of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.watch.findings import FLEET, Condition

OPEN_CASE = "open_case"  # the action of an alert's "Open a case" button


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

    @property
    def fleet(self) -> bool:
        return self.appliance == FLEET
