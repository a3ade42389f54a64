"""What reading a detection log export produces (plain, immutable data)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    """What a column of the export means to us; every other column is ignored."""

    TIME = "time"
    SEVERITY = "severity"
    TYPE = "type"
    NAME = "name"
    SOURCE = "source"
    DESTINATION = "destination"
    PROTOCOL = "protocol"
    DIRECTION = "direction"


class Severity(StrEnum):
    """The console's severities; labels the file uses for these are normalised to them."""

    HIGH = "High"
    MEDIUM = "Medium"
    LOW = "Low"
    INFORMATIONAL = "Informational"


Counts = tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class DetectionSummary:
    """How many detections an export holds, and how many of them fall in ``[start, end)``.

    Every data row is counted once in ``total_rows`` and then in exactly one of ``malformed_rows``
    (a column we need is missing), ``in_period``, ``outside_period`` or ``unreadable_time``.
    Without a time column ``period_checked`` is false and every well-formed row is in the period.
    ``by_severity`` and ``by_type`` count the rows in the period, largest first; labels beyond
    the cap on distinct labels are only counted in ``severity_overflow`` / ``type_overflow``.
    ``first_seen``/``last_seen`` span every readable time in the file, in the period or not.
    """

    start: datetime
    end: datetime
    total_rows: int
    in_period: int
    outside_period: int
    unreadable_time: int
    malformed_rows: int
    period_checked: bool
    by_severity: Counts
    by_type: Counts
    severity_overflow: int
    type_overflow: int
    first_seen: datetime | None
    last_seen: datetime | None
    encoding: str  # the Python codec: utf-8, utf-8-sig, utf-16, utf-16-le/-be, utf-32, cp932
    delimiter: str
    columns: tuple[tuple[Role, str], ...]  # each role we use and the header as the file spells it

    def column(self, role: Role) -> str | None:
        return next((header for r, header in self.columns if r is role), None)
