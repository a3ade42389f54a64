"""What a capture analysis produces and the options that steer it (plain, JSON-ready data)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.capture.archive import ArchiveLimits


class Verdict(StrEnum):
    """The answer to runbook step 3: does the sensor receive mirrored traffic?"""

    RECEIVING = "receiving"
    NO_PACKETS = "no_packets"
    OWN_TRAFFIC_ONLY = "own_traffic_only"
    ONE_DIRECTION = "one_direction"
    TOO_LITTLE = "too_little"
    UNSUPPORTED = "unsupported"  # packets arrived, but on link types we do not decode


@dataclass(frozen=True)
class CaptureSummary:
    """What a capture export holds.

    ``bytes`` sums the packets' original (on-the-wire) lengths, as capinfos' "Data size" does.
    ``first_ts``/``last_ts`` are the earliest and latest packet timestamps, as capinfos reports.
    """

    files: tuple[str, ...]
    packets: int
    bytes: int
    first_ts: float | None
    last_ts: float | None
    partial: bool = False  # some data could not be read; counts cover what could
    reason: str | None = None
    receiving_traffic: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "receiving_traffic", self.packets > 0)


@dataclass(frozen=True)
class Thresholds:
    """Below these the capture is too small to judge; configurable per site."""

    min_packets: int = 20  # packets not to or from the sensor itself
    min_duration_s: float = 0.0
    min_tcp_connections: int = 3  # needed before judging one-directional TCP
    one_direction_share: float = 0.9  # share of TCP connections seen one way only
    # Packet times spread wider than this come from a wrong clock or a damaged (or hostile)
    # file: the capture's duration and rate are then not judged.
    max_span_s: float = 366 * 86_400.0


@dataclass(frozen=True)
class AnalysisOptions:
    """Who the sensor is (to recognise its own traffic), thresholds and hostile-input limits."""

    sensor_ip: str | None = None
    sensor_mac: str | None = None
    thresholds: Thresholds = field(default_factory=Thresholds)
    limits: ArchiveLimits = field(default_factory=ArchiveLimits)
    max_seconds: float | None = None  # stop reading (partial summary) after this long
    top: int = 10
    # Up to 2: a large bare pcap file is then read by two processes at once (one core each);
    # the bot's worker keeps 1 (one analysis per CPU), the command line uses both cores.
    processes: int = 1


@dataclass(frozen=True)
class Talker:
    address: str
    packets: int
    bytes: int


@dataclass(frozen=True)
class Conversation:
    a: str
    b: str
    packets: int
    bytes: int


@dataclass(frozen=True)
class OneSided:
    """A TCP connection seen in one direction only (up to a few examples)."""

    src: str
    dst: str
    packets: int


@dataclass(frozen=True)
class TrafficSummary:
    """A richer ``CaptureSummary``: the same first fields, then what the packets contain.

    ``bytes`` sums original lengths (capinfos' "Data size"); ``captured_bytes`` what was stored.
    """

    files: tuple[str, ...]
    packets: int
    bytes: int
    first_ts: float | None
    last_ts: float | None
    partial: bool = False
    reason: str | None = None
    captured_bytes: int = 0
    truncated_packets: int = 0  # cut short by the snapshot length
    link_types: dict[str, int] = field(default_factory=dict)
    unsupported_packets: int = 0
    network: dict[str, int] = field(default_factory=dict)  # ipv4, ipv6, arp, other
    transport: dict[str, int] = field(default_factory=dict)  # tcp, udp, icmp, other, none
    vlans: dict[int, int] = field(default_factory=dict)
    bucket_s: float = 1.0
    timeline: tuple[int, ...] = ()  # packets per bucket of bucket_s seconds, from timeline_start
    # Epoch seconds where the first bucket starts: first_ts rounded down to a multiple of bucket_s
    # (buckets are counted while reading, before the earliest packet is known).
    timeline_start: float | None = None
    top_talkers: tuple[Talker, ...] = ()
    top_conversations: tuple[Conversation, ...] = ()
    own_packets: int = 0
    # Unicast IP packets neither to nor from the sensor: what only a working mirror delivers
    # (broadcasts such as ARP or STP reach a port without any mirror).
    mirrored_packets: int = 0
    tcp_connections: int = 0
    one_sided_connections: int = 0
    one_sided_examples: tuple[OneSided, ...] = ()
    approximate: bool = False  # too many hosts or connections: top lists are estimates

    @property
    def receiving_traffic(self) -> bool:
        return self.packets > 0

    @property
    def duration_s(self) -> float:
        if self.first_ts is None or self.last_ts is None:
            return 0.0
        return self.last_ts - self.first_ts

    @property
    def foreign_packets(self) -> int:
        """Evidence of mirrored traffic: unicast IP packets of other hosts."""
        return self.mirrored_packets

    def capture_summary(self) -> CaptureSummary:
        return CaptureSummary(
            self.files, self.packets, self.bytes, self.first_ts, self.last_ts,
            self.partial, self.reason,
        )  # fmt: skip


@dataclass(frozen=True)
class Reason:
    """One reason behind a verdict: a stable code and the numbers that support it."""

    code: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Analysis:
    summary: TrafficSummary
    verdict: Verdict
    reasons: tuple[Reason, ...]

    def to_dict(self) -> dict[str, Any]:
        summary = dataclasses.asdict(self.summary)
        summary["vlans"] = {str(k): v for k, v in self.summary.vlans.items()}
        summary["duration_s"] = self.summary.duration_s
        summary["receiving_traffic"] = self.summary.receiving_traffic
        return {
            "verdict": self.verdict.value,
            "reasons": [dataclasses.asdict(reason) for reason in self.reasons],
            "summary": summary,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)
