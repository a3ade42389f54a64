"""Detection counts per appliance per minute, in memory until flushed, plus running totals.

The minute comes from the sensor's event time when that is within ``max_skew`` (24 h) of the
time the bot received it, else from the receive time: sensor clocks are sometimes wrong.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

DEFAULT_MAX_SKEW = 24 * 3600.0
UNKNOWN_SOURCES_LIMIT = 256
UNKNOWN_SOURCE_CHARS = 200  # the names come from the messages: keep them short


@dataclass(frozen=True, slots=True)
class MinuteCount:
    appliance: str
    minute: datetime  # start of the minute, UTC
    count: int


@dataclass(frozen=True, slots=True)
class SyslogStats:
    """Totals since start. ``received`` = counted + ignored + bad + unknown_sender + refused.

    ``refused``: datagrams, and TCP/TLS connections, from senders outside ``DDI_BOT_SYSLOG_ALLOW``.
    """

    received: int
    counted: int
    ignored: int
    bad: int
    unknown_sender: int
    pending: int  # detections counted but not yet flushed
    last_seen: Mapping[str, datetime] = field(default_factory=dict)
    unknown_sources: Mapping[str, int] = field(default_factory=dict)
    refused: int = 0


class DetectionCounter:
    """Not thread-safe: used from the event loop only."""

    def __init__(self, max_skew: float = DEFAULT_MAX_SKEW) -> None:
        self.max_skew = max_skew
        self.received = 0
        self.counted = 0
        self.ignored = 0
        self.bad = 0
        self.unknown_sender = 0
        self.refused = 0
        self._pending: dict[tuple[str, int], int] = {}
        self._last_seen: dict[str, float] = {}
        self._unknown: dict[str, int] = {}

    def count(self, appliance: str, event_time: float | None, received_at: float) -> None:
        """One detection of ``appliance``, received at ``received_at`` (epoch seconds)."""
        self.received += 1
        self.counted += 1
        when = received_at
        if event_time is not None and -self.max_skew <= event_time - received_at <= self.max_skew:
            when = event_time
        key = (appliance, int(when // 60) * 60)
        pending = self._pending
        pending[key] = pending.get(key, 0) + 1
        self._last_seen[appliance] = received_at

    def ignore(self) -> None:
        self.received += 1
        self.ignored += 1

    def reject(self, n: int = 1) -> None:
        """``n`` bad messages (unreadable lines, broken frames)."""
        self.received += n
        self.bad += n

    def refuse(self, n: int = 1) -> None:
        """``n`` datagrams or connections from senders the allowlist leaves out."""
        self.received += n
        self.refused += n

    def unknown(self, source: str) -> None:
        """A detection from no appliance in the inventory; ``source`` names it for operators."""
        self.received += 1
        self.unknown_sender += 1
        source = source[:UNKNOWN_SOURCE_CHARS]
        unknown = self._unknown
        if source in unknown or len(unknown) < UNKNOWN_SOURCES_LIMIT:
            unknown[source] = unknown.get(source, 0) + 1

    def drain(self) -> list[MinuteCount]:
        """The pending counts, oldest first; they are cleared (``restore`` them if not stored)."""
        pending, self._pending = self._pending, {}
        return [
            MinuteCount(appliance, datetime.fromtimestamp(minute, UTC), n)
            for (appliance, minute), n in sorted(pending.items(), key=lambda kv: kv[0][::-1])
        ]

    def restore(self, counts: Iterable[MinuteCount]) -> None:
        """Put drained counts back (a flush failed), adding to whatever arrived since."""
        pending = self._pending
        for c in counts:
            key = (c.appliance, int(c.minute.timestamp()))
            pending[key] = pending.get(key, 0) + c.count

    @property
    def pending(self) -> int:
        return sum(self._pending.values())

    def stats(self) -> SyslogStats:
        return SyslogStats(
            received=self.received,
            counted=self.counted,
            ignored=self.ignored,
            bad=self.bad,
            unknown_sender=self.unknown_sender,
            pending=self.pending,
            last_seen={a: datetime.fromtimestamp(t, UTC) for a, t in self._last_seen.items()},
            unknown_sources=dict(self._unknown),
            refused=self.refused,
        )
