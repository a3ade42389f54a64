"""Accumulate decoded batches into a ``TrafficSummary`` in bounded memory.

Per batch, numpy tallies packets by key (``bot.capture.tally``) in tables that are pruned to
their largest entries when they grow past a cap (the summary is then marked approximate).
"""

from __future__ import annotations

import ipaddress
import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from bot.capture.decode import (
    L3_ARP,
    L3_IPV4,
    L3_IPV6,
    L4_ICMP,
    L4_NONE,
    L4_TCP,
    L4_UDP,
    LINK_NAMES,
    V6_FLAG,
    Decoded,
    hash_words,
)
from bot.capture.model import Conversation, OneSided, Talker, TrafficSummary
from bot.capture.records import I64, Batch
from bot.capture.table import MAX_KEYS
from bot.capture.tally import Tally

MAX_BUCKETS = 2048
MAX_POINTS = 900
_DENSE = 1 << 16  # values spread over fewer than this are counted with bincount
_EXAMPLES = 5


@dataclass(frozen=True)
class Sensor:
    """The sensor's own identity as tokens comparable with decoded fields."""

    address: int | None = None
    mac: int | None = None

    @classmethod
    def parse(cls, ip: str | None, mac: str | None) -> Sensor:
        """Raises ``ValueError`` for a malformed address."""
        address = None
        if ip:
            parsed = ipaddress.ip_address(ip.strip())
            if parsed.version == 4:
                address = int(parsed)
            else:
                words = np.frombuffer(parsed.packed, np.dtype(">u8")).astype(np.uint64)
                address = int(hash_words(words[:1], words[1:])[0])
        hw = None
        if mac:
            digits = mac.strip().lower().replace(":", "").replace("-", "").replace(".", "")
            if len(digits) != 12:
                raise ValueError(f"not a MAC address: {mac!r}")
            hw = int(digits, 16)
        return cls(address, hw)


@dataclass
class Accumulator:
    """Running totals over every batch of every capture in an export."""

    sensor: Sensor = field(default_factory=Sensor)
    packets: int = 0
    wire_bytes: int = 0
    captured: int = 0
    truncated: int = 0
    unsupported: int = 0
    own: int = 0
    mirrored: int = 0
    first: float = math.inf
    last: float = -math.inf
    width: float = 1.0
    links: Counter[int] = field(default_factory=Counter)
    network: Counter[int] = field(default_factory=Counter)
    transport: Counter[int] = field(default_factory=Counter)
    vlans: Counter[int] = field(default_factory=Counter)
    buckets: Counter[int] = field(default_factory=Counter)
    talkers: Tally = field(default_factory=Tally)
    pairs: Tally = field(default_factory=Tally)
    flows: Tally = field(default_factory=lambda: Tally(bits=True))
    names: dict[int, bytes] = field(default_factory=dict)
    endpoints: dict[int, tuple[int, int]] = field(default_factory=dict)

    def add(self, batch: Batch, dec: Decoded) -> None:
        n = len(batch.data)
        self.packets += n
        self.wire_bytes += int(batch.origlen.sum())
        self.captured += int(batch.caplen.sum())
        self.truncated += int((batch.caplen < batch.origlen).sum())
        self.unsupported += int((~dec.supported).sum())
        self._count(self.links, batch.link)
        _bincount(self.network, dec.l3[dec.supported])
        _bincount(self.transport, dec.l4[dec.supported])
        self._count(self.vlans, dec.vlan_outer[dec.vlan_outer >= 0])
        self._count(self.vlans, dec.vlan_inner[dec.vlan_inner >= 0])
        self._time(batch.ts)
        if len(self.names) < MAX_KEYS:
            self.names.update(dec.v6_names)
        own = self._own(dec)
        self.own += int(own.sum())
        # group bit of the destination MAC; no MAC (raw IP, cooked) counts as unicast
        unicast = (dec.dst_mac < 0) | (((dec.dst_mac >> 40) & 1) == 0)
        self.mirrored += int((dec.has_ip & ~own & unicast).sum())
        ip = dec.has_ip
        if ip.any():
            size = batch.origlen[ip].astype(np.uint64)
            keys = np.concatenate([dec.src[ip], dec.dst[ip]])
            self.talkers.add(keys, np.zeros_like(keys), np.concatenate([size, size]))
            a, b = np.minimum(dec.src[ip], dec.dst[ip]), np.maximum(dec.src[ip], dec.dst[ip])
            self.pairs.add(a, b, size)
        # Only segments with ACK set count: an unanswered SYN (scan, closed port) is a failed
        # connection, not a half-configured SPAN, whose delivered side still carries ACKs.
        acked = (dec.tcp_flags >= 0) & ((dec.tcp_flags & 0x10) != 0)
        tcp = ip & ~own & (dec.l4 == L4_TCP) & (dec.sport >= 0) & acked
        if tcp.any():
            self._flows(dec, tcp)

    def merge(self, other: Accumulator) -> None:
        """Add the totals of ``other``, which read another part of the same capture(s)."""
        for name in ("packets", "wire_bytes", "captured", "truncated", "unsupported", "own"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.mirrored += other.mirrored
        self.first, self.last = min(self.first, other.first), max(self.last, other.last)
        for mine, theirs in (
            (self.links, other.links),
            (self.network, other.network),
            (self.transport, other.transport),
            (self.vlans, other.vlans),
        ):
            mine.update(theirs)
        # the same bucket width for both (a bucket of width 2w is two of width w), then merge
        theirs_buckets, theirs_width = Counter(other.buckets), other.width
        while theirs_width < self.width:
            theirs_buckets, theirs_width = _coarser(theirs_buckets), theirs_width * 2
        while self.width < theirs_width:
            self.buckets, self.width = _coarser(self.buckets), self.width * 2
        self.buckets.update(theirs_buckets)
        while len(self.buckets) > MAX_BUCKETS:
            self.buckets, self.width = _coarser(self.buckets), self.width * 2
        self.talkers.merge(other.talkers)
        self.pairs.merge(other.pairs)
        self.flows.merge(other.flows)
        for token, raw in other.names.items():
            if len(self.names) >= MAX_KEYS:
                break
            self.names.setdefault(token, raw)
        for end, endpoint in other.endpoints.items():
            if len(self.endpoints) >= MAX_KEYS:
                break
            self.endpoints.setdefault(end, endpoint)

    @staticmethod
    def _count(counter: Counter[int], values: I64) -> None:
        if not len(values):
            return
        low, high = int(values.min()), int(values.max())
        if high - low < _DENSE:  # VLAN ids, link types, seconds of one batch: no sort needed
            counts = np.bincount(values - low)
            present = np.flatnonzero(counts)
            keys, numbers = (present + low).tolist(), counts[present].tolist()
        else:
            unique, found = np.unique(values, return_counts=True)
            keys, numbers = unique.tolist(), found.tolist()
        for key, number in zip(keys, numbers, strict=True):
            counter[key] += number

    def _time(self, ts: npt.NDArray[np.float64]) -> None:
        ts = ts[np.isfinite(ts) & (np.abs(ts) < 1e13)]
        if not len(ts):
            return
        self.first, self.last = min(self.first, float(ts.min())), max(self.last, float(ts.max()))
        self._count(self.buckets, np.floor(ts / self.width).astype(np.int64))
        while len(self.buckets) > MAX_BUCKETS:
            self.buckets, self.width = _coarser(self.buckets), self.width * 2

    def _own(self, dec: Decoded) -> npt.NDArray[np.bool_]:
        own = np.zeros(len(dec.l3), np.bool_)
        if self.sensor.address is not None:
            token = np.uint64(self.sensor.address)
            own |= dec.has_ip & ((dec.src == token) | (dec.dst == token))
        if self.sensor.mac is not None:
            own |= (dec.src_mac == self.sensor.mac) | (dec.dst_mac == self.sensor.mac)
        return own

    def _flows(self, dec: Decoded, tcp: npt.NDArray[np.bool_]) -> None:
        ends = []
        for token, port in ((dec.src[tcp], dec.sport[tcp]), (dec.dst[tcp], dec.dport[tcp])):
            port64 = port.astype(np.uint64)
            end = (token << np.uint64(16)) | port64  # IPv4: address and port side by side
            v6 = np.flatnonzero(token >= V6_FLAG)
            if len(v6):  # IPv6: a hash of both
                end[v6] = hash_words(token[v6], port64[v6])
            ends.append(end)
            if len(v6) and len(self.endpoints) < MAX_KEYS:
                unique, first = np.unique(end[v6], return_index=True)
                tokens, ports = token[v6][first].tolist(), port[v6][first].tolist()
                for e, t, p in zip(unique.tolist(), tokens, ports, strict=True):
                    self.endpoints[e] = (t, p)
        a, b = np.minimum(ends[0], ends[1]), np.maximum(ends[0], ends[1])
        direction = np.where(ends[0] < ends[1], 1, 2).astype(np.uint64)
        self.flows.add(a, b, direction)

    def _name(self, token: int) -> str:
        if token < 1 << 32:
            return str(ipaddress.IPv4Address(token))
        raw = self.names.get(token)
        return str(ipaddress.IPv6Address(raw)) if raw else f"ipv6:{token:016x}"

    def _endpoint(self, end: int) -> str:
        if end >= 1 << 63:
            token, port = self.endpoints.get(end, (end, -1))
            return f"[{self._name(token)}]:{port}" if port >= 0 else "[ipv6]"
        return f"{self._name(end >> 16)}:{end & 0xFFFF}"

    def summary(self, files: tuple[str, ...], reason: str | None, top: int = 10) -> TrafficSummary:
        first = self.first if self.first != math.inf else None
        last = self.last if self.last != -math.inf else None
        talkers, pairs = self.talkers.rows(top), self.pairs.rows(top)
        flows = self.flows.table()  # weight: 1 or 2 seen one way only, 3 both ways
        examples = tuple(
            OneSided(*self._direction(key, mask), packets)
            for key, packets, mask in flows.rows(_EXAMPLES, unless=3)
        )
        bucket_s, start, timeline = self._timeline(first, last)
        return TrafficSummary(
            files=files, packets=self.packets, bytes=self.wire_bytes, first_ts=first, last_ts=last,
            partial=reason is not None, reason=reason, captured_bytes=self.captured,
            truncated_packets=self.truncated,
            link_types={LINK_NAMES.get(k, f"linktype {k}"): v for k, v in self.links.items()},
            unsupported_packets=self.unsupported,
            network=_named(self.network, {L3_IPV4: "ipv4", L3_IPV6: "ipv6", L3_ARP: "arp"}),
            transport=_named(
                self.transport,
                {L4_TCP: "tcp", L4_UDP: "udp", L4_ICMP: "icmp", L4_NONE: "none"},
            ),
            vlans=dict(sorted(self.vlans.items())), bucket_s=bucket_s, timeline=timeline,
            timeline_start=start,
            top_talkers=tuple(Talker(self._name(k[0]), p, b) for k, p, b in talkers),
            top_conversations=tuple(
                Conversation(self._name(k[0]), self._name(k[1]), p, b) for k, p, b in pairs
            ),
            own_packets=self.own, mirrored_packets=self.mirrored, tcp_connections=len(flows),
            one_sided_connections=flows.count(unless=3), one_sided_examples=examples,
            approximate=any(t.approximate for t in (self.talkers, self.pairs, self.flows)),
        )  # fmt: skip

    def _direction(self, key: tuple[int, int], mask: int) -> tuple[str, str]:
        a, b = self._endpoint(key[0]), self._endpoint(key[1])
        return (a, b) if mask == 1 else (b, a)

    def _timeline(
        self, first: float | None, last: float | None
    ) -> tuple[float, float | None, tuple[int, ...]]:
        """Bucket width, the epoch where the first bucket starts, and packets per bucket."""
        if first is None or last is None:
            return self.width, None, ()
        width, buckets = self.width, dict(self.buckets)
        start = math.floor(first / width)
        while (math.floor(last / width) - start) >= MAX_POINTS:
            width *= 2
            coarse: Counter[int] = Counter()
            for key, count in buckets.items():
                coarse[key // 2] += count
            buckets, start = coarse, start // 2
        span = math.floor(last / width) - start + 1
        return width, start * width, tuple(buckets.get(start + i, 0) for i in range(span))


def _coarser(buckets: Counter[int]) -> Counter[int]:
    """Buckets twice as wide: floor(t / 2w) == floor(t / w) // 2."""
    coarse: Counter[int] = Counter()
    for key, count in buckets.items():
        coarse[key // 2] += count
    return coarse


def _bincount(counter: Counter[int], values: I64) -> None:
    counts = np.bincount(values)
    counter.update({i: c for i, c in enumerate(counts.tolist()) if c})


def _named(counter: Counter[int], names: dict[int, str]) -> dict[str, int]:
    out = {name: counter.get(code, 0) for code, name in names.items()}
    out["other"] = sum(v for k, v in counter.items() if k not in names)
    return out
