"""Vectorised decoding of link, network and transport headers for a batch of records.

Every field is read for all packets at once; a field is only trusted where the captured bytes
cover it (``_Fields.get`` masks the rest).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.capture.records import I64, U8, Batch

U64 = npt.NDArray[np.uint64]
Mask = npt.NDArray[np.bool_]

ETHERNET, NULL, RAW, RAW_BSD, RAW_OPENBSD, LOOP, SLL, IPV4, IPV6, SLL2 = (
    1, 0, 101, 12, 14, 108, 113, 228, 229, 276,
)  # fmt: skip
LINK_NAMES = {
    ETHERNET: "ethernet", NULL: "null", RAW: "raw-ip", RAW_BSD: "raw-ip", RAW_OPENBSD: "raw-ip",
    LOOP: "loop", SLL: "linux-sll", IPV4: "raw-ipv4", IPV6: "raw-ipv6", SLL2: "linux-sll2",
}  # fmt: skip
SUPPORTED = frozenset(LINK_NAMES)

L3_OTHER, L3_IPV4, L3_IPV6, L3_ARP = 0, 1, 2, 3
L4_NONE, L4_TCP, L4_UDP, L4_ICMP, L4_OTHER = 0, 1, 2, 3, 4
V6_FLAG = np.uint64(1 << 63)  # IPv6 addresses are 63-bit hashes with this bit set; IPv4 < 2**32
_VLAN_TPIDS = (0x8100, 0x88A8, 0x9100)
_V6_EXTENSIONS = (0, 43, 60)  # hop-by-hop, routing, destination options
_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(31))

# the decoding in C, when it was built at install (bot/capture/_decode.c); else None
COMPILED: Callable[[U8, I64, I64, I64, I64, Mask], None] | None
try:
    from bot.capture._decode import fields as _compiled

    COMPILED = _compiled
except ImportError:
    COMPILED = None
# the rows of the compiled decoding's output, in _decode.c's order
_L3, _L4, _SRC, _DST, _SPORT, _DPORT, _FLAGS, _SRC_MAC, _DST_MAC, _OUTER, _INNER, _V6_AT = range(12)


@dataclass
class Decoded:
    """Per-packet fields; ``-1`` (or 0 for addresses with ``has_ip`` False) where absent."""

    supported: Mask
    l3: I64
    l4: I64
    has_ip: Mask
    src: U64
    dst: U64
    sport: I64
    dport: I64
    tcp_flags: I64
    src_mac: I64
    dst_mac: I64
    vlan_outer: I64
    vlan_inner: I64
    v6_names: dict[int, bytes]  # address token -> 16 address bytes, for IPv6 tokens seen


_WORDS: dict[int, np.dtype[Any]] = {
    1: np.dtype("u1"),
    2: np.dtype(">u2"),
    4: np.dtype(">u4"),
    8: np.dtype(">u8"),
}


class _Fields:
    """Big-endian reads at per-packet positions, valid only inside each packet's bytes.

    A field of 1, 2, 4 or 8 bytes is one gather from a view of the buffer as big-endian words
    starting at every byte offset (stride 1), not one gather per byte.
    """

    def __init__(self, batch: Batch) -> None:
        self.buf: U8 = batch.buf
        self.end: I64 = batch.data + batch.caplen
        self.last = max(len(batch.buf) - 1, 0)
        self._views: dict[int, npt.NDArray[np.unsignedinteger[Any]]] = {}

    def covers(self, pos: I64, width: int) -> Mask:
        return (pos >= 0) & (pos + width <= self.end)

    def _words(self, width: int) -> npt.NDArray[np.unsignedinteger[Any]]:
        view = self._views.get(width)
        if view is None:
            count = max(len(self.buf) - width + 1, 0)
            view = np.ndarray((count,), _WORDS[width], self.buf, 0, (1,))
            self._views[width] = view
        return view

    def read(self, pos: I64, width: int, ok: Mask) -> I64:
        """The word of ``width`` bytes at ``pos`` where ``ok`` (inside the buffer), else 0."""
        words = self._words(width)
        if not len(words):
            return np.zeros(len(pos), np.int64)
        value = words[np.where(ok, pos, 0)]
        return np.where(ok, value, 0).astype(np.int64)

    def get(self, pos: I64, width: int) -> tuple[I64, Mask]:
        ok = self.covers(pos, width)
        if width in _WORDS:
            words = self._words(width)
            if not len(words):
                return np.full(len(pos), -1, np.int64), ok
            word: I64 = words[np.where(ok, pos, 0)].astype(np.int64)
            word[~ok] = -1
            return word, ok
        # 6 bytes (a MAC address): the 8-byte word, shifted, where the buffer holds 8 bytes
        wide = ok & (pos + 8 <= len(self.buf))
        value = self.read(pos, 8, wide).view(np.uint64) >> np.uint64(8 * (8 - width))
        value = value.astype(np.int64)
        narrow = ok & ~wide
        if narrow.any():  # the buffer's last bytes: byte by byte
            at = np.where(narrow, pos, 0)
            slow = self.buf[at].astype(np.int64)
            for i in range(1, width):
                slow = (slow << 8) | self.buf[np.minimum(at + i, self.last)]
            value = np.where(narrow, slow, value)
        return np.where(ok, value, -1), ok


def hash_words(hi: U64, lo: U64) -> U64:
    with np.errstate(over="ignore"):
        mixed = hi * _MIX[0] ^ (lo + (hi >> _MIX[2])) * _MIX[1]
        mixed ^= mixed >> _MIX[2]
    return mixed | V6_FLAG


def decode(batch: Batch, *, compiled: bool = True) -> Decoded:
    """Decode every supported record of ``batch``: compiled when it can be, else with numpy.

    ``ValueError`` for a record that does not lie inside the batch's buffer (a reader never
    makes one)."""
    data, caplen = batch.data, batch.caplen
    if len(data) and ((data < 0) | (caplen < 0) | (caplen > len(batch.buf) - data)).any():
        raise ValueError("a record does not lie inside the buffer")
    if compiled and COMPILED is not None:
        return _decode_compiled(batch, COMPILED)
    n = len(batch.data)
    f = _Fields(batch)
    d, link = batch.data, batch.link
    none = np.full(n, -1, np.int64)
    ethertype, l3pos, src_mac, dst_mac = none.copy(), none.copy(), none.copy(), none.copy()
    supported = np.isin(link, list(SUPPORTED))

    eth = link == ETHERNET
    if eth.any():
        et, _ = f.get(d + 12, 2)
        ethertype = np.where(eth, et, ethertype)
        l3pos = np.where(eth & (et >= 0), d + 14, l3pos)
        dst_mac = np.where(eth, f.get(d, 6)[0], dst_mac)
        src_mac = np.where(eth, f.get(d + 6, 6)[0], src_mac)
    for kind, et_at, l3_at, mac_at in ((SLL, 14, 16, 6), (SLL2, 0, 20, 12)):
        cooked = link == kind
        if cooked.any():
            et, ok = f.get(d + et_at, 2)
            ethertype = np.where(cooked, et, ethertype)
            l3pos = np.where(cooked & ok, d + l3_at, l3pos)
            src_mac = np.where(cooked, f.get(d + mac_at, 6)[0], src_mac)
    raw = np.isin(link, [RAW, RAW_BSD, RAW_OPENBSD])
    if raw.any():
        version, _ = f.get(d, 1)
        guess = np.select([version >> 4 == 4, version >> 4 == 6], [0x0800, 0x86DD], 0)
        ethertype = np.where(raw, guess, ethertype)
        l3pos = np.where(raw, d, l3pos)
    ethertype = np.where(link == IPV4, 0x0800, np.where(link == IPV6, 0x86DD, ethertype))
    l3pos = np.where((link == IPV4) | (link == IPV6), d, l3pos)
    for kind, little in ((NULL, True), (LOOP, False)):
        looped = link == kind
        if looped.any():
            family = _family(f, d, little)
            v6 = np.isin(family, [10, 24, 28, 30])
            ethertype = np.where(
                looped, np.select([family == 2, v6], [0x0800, 0x86DD], 0), ethertype
            )
            l3pos = np.where(looped, d + 4, l3pos)

    outer, inner = none.copy(), none.copy()
    for depth in range(3):
        tagged = np.isin(ethertype, _VLAN_TPIDS) & f.covers(l3pos, 4)
        if not tagged.any():
            break
        vid = f.get(l3pos, 2)[0] & 0x0FFF
        if depth == 0:
            outer = np.where(tagged, vid, outer)
        elif depth == 1:
            inner = np.where(tagged, vid, inner)
        ethertype = np.where(tagged, f.get(l3pos + 2, 2)[0], ethertype)
        l3pos = np.where(tagged, l3pos + 4, l3pos)

    ethertype, l3pos = _tunnels(f, ethertype, l3pos)
    version = f.get(l3pos, 1)[0] >> 4
    l3 = np.select(
        [ethertype == 0x0800, (ethertype == 0x86DD) & (version == 6), ethertype == 0x0806],
        [L3_IPV4, L3_IPV6, L3_ARP],
        L3_OTHER,
    ).astype(np.int64)
    proto, l4pos, src, dst, has_ip, names = _network(f, l3, l3pos)
    l4 = np.select(
        [proto == 6, proto == 17, (proto == 1) | (proto == 58), proto >= 0],
        [L4_TCP, L4_UDP, L4_ICMP, L4_OTHER],
        L4_NONE,
    ).astype(np.int64)
    ported = (l4 == L4_TCP) | (l4 == L4_UDP)
    sport, ok = f.get(l4pos, 2)
    dport, _ = f.get(l4pos + 2, 2)
    flags, _ = f.get(l4pos + 13, 1)
    ports_ok = ported & ok & f.covers(l4pos, 4)
    return Decoded(
        supported=supported,
        l3=np.where(supported, l3, L3_OTHER),
        l4=np.where(supported, l4, L4_NONE),
        has_ip=has_ip & supported,
        src=src,
        dst=dst,
        sport=np.where(ports_ok, sport, -1),
        dport=np.where(ports_ok, dport, -1),
        tcp_flags=np.where(l4 == L4_TCP, flags, -1),
        src_mac=src_mac,
        dst_mac=dst_mac,
        vlan_outer=outer,
        vlan_inner=inner,
        v6_names=names,
    )


def _decode_compiled(
    batch: Batch, fields: Callable[[U8, I64, I64, I64, I64, Mask], None]
) -> Decoded:
    n = len(batch.data)
    ints, flags = np.empty((_V6_AT + 1, n), np.int64), np.empty((2, n), np.bool_)
    fields(
        batch.buf,
        np.ascontiguousarray(batch.data, np.int64),
        np.ascontiguousarray(batch.caplen, np.int64),
        np.ascontiguousarray(batch.link, np.int64),
        ints,
        flags,
    )
    src, dst = ints[_SRC].view(np.uint64), ints[_DST].view(np.uint64)
    names: dict[int, bytes] = {}
    v6 = np.flatnonzero(ints[_V6_AT] >= 0)
    if len(v6):
        at = ints[_V6_AT][v6]
        _add_names(names, batch.buf, at + 8, src[v6])
        _add_names(names, batch.buf, at + 24, dst[v6])
    return Decoded(
        supported=flags[0],
        l3=ints[_L3],
        l4=ints[_L4],
        has_ip=flags[1],
        src=src,
        dst=dst,
        sport=ints[_SPORT],
        dport=ints[_DPORT],
        tcp_flags=ints[_FLAGS],
        src_mac=ints[_SRC_MAC],
        dst_mac=ints[_DST_MAC],
        vlan_outer=ints[_OUTER],
        vlan_inner=ints[_INNER],
        v6_names=names,
    )


def _add_names(names: dict[int, bytes], buf: U8, at: I64, tokens: U64) -> None:
    """Each IPv6 token's 16 address bytes; ``at``: where each token's address starts."""
    unique, index = np.unique(tokens, return_index=True)
    for token, start in zip(unique.tolist(), at[index].tolist(), strict=True):
        names[int(token)] = buf[start : start + 16].tobytes()


def _tunnels(f: _Fields, ethertype: I64, pos: I64) -> tuple[I64, I64]:
    """Step over MPLS labels and PPPoE session headers to the IP packet they carry."""
    for _ in range(4):
        mpls = np.isin(ethertype, (0x8847, 0x8848)) & f.covers(pos, 4)
        if not mpls.any():
            break
        bottom = (f.get(pos, 4)[0] >> 8) & 1 == 1
        pos = np.where(mpls, pos + 4, pos)
        version = f.get(pos, 1)[0] >> 4
        guess = np.select([version == 4, version == 6], [0x0800, 0x86DD], 0)
        ethertype = np.where(mpls & bottom, guess, ethertype)
    pppoe = (ethertype == 0x8864) & f.covers(pos, 8)
    if pppoe.any():
        ppp = f.get(pos + 6, 2)[0]
        inner = np.select([ppp == 0x0021, ppp == 0x0057], [0x0800, 0x86DD], 0)
        ethertype = np.where(pppoe, inner, ethertype)
        pos = np.where(pppoe, pos + 8, pos)
    return ethertype, pos


def _family(f: _Fields, d: I64, little: bool) -> I64:
    value, _ = f.get(d, 4)
    swapped = ((value & 0xFF) << 24) | ((value & 0xFF00) << 8)
    swapped |= ((value >> 8) & 0xFF00) | ((value >> 24) & 0xFF)
    if little:  # the writer's byte order: libpcap accepts either
        value = np.where(value > 0xFFFF, swapped, value)
    return value


def _network(f: _Fields, l3: I64, pos: I64) -> tuple[I64, I64, U64, U64, Mask, dict[int, bytes]]:
    """(transport protocol, its offset, src, dst, has addresses, IPv6 names) per packet."""
    n = len(l3)
    proto, l4pos = np.full(n, -1, np.int64), np.full(n, -1, np.int64)
    src, dst = np.zeros(n, np.uint64), np.zeros(n, np.uint64)
    v4 = (l3 == L3_IPV4) & f.covers(pos, 20)
    if v4.any():
        first, _ = f.get(pos, 1)
        ihl = (first & 0x0F) * 4
        v4 &= (first >> 4 == 4) & (ihl >= 20)
        fragment, _ = f.get(pos + 6, 2)
        whole = v4 & (fragment & 0x1FFF == 0)
        proto = np.where(whole, f.get(pos + 9, 1)[0], proto)
        l4pos = np.where(whole, pos + ihl, l4pos)
        src = np.where(v4, f.get(pos + 12, 4)[0], 0).astype(np.uint64)
        dst = np.where(v4, f.get(pos + 16, 4)[0], 0).astype(np.uint64)
    v6 = (l3 == L3_IPV6) & f.covers(pos, 40)
    names: dict[int, bytes] = {}
    if v6.any():
        v6 &= f.get(pos, 1)[0] >> 4 == 6
        nxt, at = f.get(pos + 6, 1)[0], pos + 40
        for _ in range(4):
            ext = v6 & np.isin(nxt, _V6_EXTENSIONS) & f.covers(at, 2)
            frag = v6 & (nxt == 44) & f.covers(at, 8)
            if not (ext.any() or frag.any()):
                break
            size = np.where(frag, 8, (f.get(at + 1, 1)[0] + 1) * 8)
            later = frag & (f.get(at + 2, 2)[0] & 0xFFF8 != 0)
            moved = ext | frag
            nxt = np.where(later, -1, np.where(moved, f.get(at, 1)[0], nxt))
            at = np.where(moved, at + size, at)
        proto = np.where(v6, nxt, proto)
        l4pos = np.where(v6, at, l4pos)
        rows = np.flatnonzero(v6)
        at6 = pos[rows]
        inside = np.ones(len(rows), np.bool_)
        for column, offset in ((src, 8), (dst, 24)):
            hi = f.read(at6 + offset, 8, inside).view(np.uint64)
            lo = f.read(at6 + offset + 8, 8, inside).view(np.uint64)
            tokens = hash_words(hi, lo)
            column[rows] = tokens
            _add_names(names, f.buf, at6 + offset, tokens)
    return proto, l4pos, src, dst, v4 | v6, names
