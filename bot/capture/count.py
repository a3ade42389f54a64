"""Count the packets of a capture export by streaming it (memory does not grow with the file).

Small struct-based readers for classic pcap (both byte orders, micro- and nanosecond magic) and
pcapng (SHB/IDB/EPB/SPB/PB). Synchronous: async callers use ``asyncio.to_thread``.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from dataclasses import dataclass, field

from bot.capture.archive import ArchiveLimits, Readable, open_export
from bot.errors import CaptureError

_CHUNK = 64 * 1024
_MAX_RECORD = 16 << 20  # larger "packets" mean a corrupt record header
_MAX_META_BLOCK = 1 << 20  # section/interface blocks are small; bigger ones are corrupt
_NSEC_MAGICS = (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
_LITTLE_MAGICS = (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1")
_SHB, _IDB, _PB, _SPB, _EPB = 0x0A0D0D0A, 1, 2, 3, 6


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


class _Source:
    """Reads exactly what is asked unless the data ends; decompression errors end it too."""

    def __init__(self, head: bytes, stream: Readable) -> None:
        self._head, self._stream = head, stream
        self.error: str | None = None

    def read(self, size: int) -> bytes:
        out = bytearray(self._head[:size])
        self._head = self._head[size:]
        while len(out) < size and self.error is None:
            try:
                chunk = self._stream.read(min(size - len(out), _CHUNK))
            except (OSError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
                self.error = f"decompression failed ({exc})"
                break
            if not chunk:
                break
            out += chunk
        return bytes(out)

    def skip(self, size: int) -> int:
        done = 0
        while done < size:
            got = len(self.read(min(size - done, _CHUNK)))
            done += got
            if not got:
                break
        return done


class _Tally:
    def __init__(self, name: str) -> None:
        self.name, self.packets, self.bytes = name, 0, 0
        self.first: float | None = None
        self.last: float | None = None
        self.reason: str | None = None

    def add(self, original: int, ts: float | None) -> None:
        self.packets += 1
        self.bytes += original
        if ts is not None:
            self.first = ts if self.first is None else min(self.first, ts)
            self.last = ts if self.last is None else max(self.last, ts)

    def stop(self, src: _Source, why: str) -> None:
        self.reason = f"{self.name}: {src.error or why} after {self.packets} packet(s)"


def _count_pcap(src: _Source, tally: _Tally) -> None:
    header = src.read(24)
    if len(header) < 24:
        raise CaptureError(f"{tally.name}: the pcap file header is truncated", reason="garbage")
    endian = "<" if header[:4] in _LITTLE_MAGICS else ">"
    scale = 1e-9 if header[:4] in _NSEC_MAGICS else 1e-6
    record = struct.Struct(endian + "IIII")
    while True:
        raw = src.read(16)
        if not raw:
            if src.error:
                tally.stop(src, "")
            return
        if len(raw) < 16:
            return tally.stop(src, "truncated packet header")
        sec, frac, captured, original = record.unpack(raw)
        if captured > _MAX_RECORD:
            return tally.stop(src, f"corrupt packet header (claims {captured} bytes)")
        if src.skip(captured) < captured:
            return tally.stop(src, "truncated packet data")
        tally.add(original, sec + frac * scale)


def _idb(body: bytes, endian: str) -> tuple[int, float, float]:
    """(snaplen, timestamp units per second, timestamp offset) of an interface block."""
    _, _, snaplen = struct.unpack_from(endian + "HHI", body)
    resolution, offset, pos = 1_000_000.0, 0.0, 8
    while pos + 4 <= len(body):
        code, length = struct.unpack_from(endian + "HH", body, pos)
        value = body[pos + 4 : pos + 4 + length]
        if code == 0:
            break
        if code == 9 and len(value) == 1:
            resolution = float(2 ** (value[0] & 0x7F) if value[0] & 0x80 else 10 ** value[0])
        elif code == 14 and len(value) == 8:
            offset = float(struct.unpack(endian + "q", value)[0])
        pos += 4 + length + (-length % 4)
    return snaplen, resolution, offset


def _count_pcapng(src: _Source, tally: _Tally) -> None:
    endian, interfaces, first = "<", list[tuple[int, float, float]](), True
    while True:
        raw = src.read(8)
        if not raw and not first:
            if src.error:
                tally.stop(src, "")
            return
        if len(raw) < 8:
            return tally.stop(src, "truncated block header")
        body_prefix = b""
        if raw[:4] == b"\x0a\x0d\x0d\x0a":
            body_prefix = src.read(4)
            endian = {b"\x4d\x3c\x2b\x1a": "<", b"\x1a\x2b\x3c\x4d": ">"}.get(body_prefix, "")
            if not endian:
                if first:
                    raise CaptureError(f"{tally.name}: invalid pcapng header", reason="garbage")
                return tally.stop(src, "invalid section header")
            interfaces = []
        elif first:
            raise CaptureError(f"{tally.name}: invalid pcapng header", reason="garbage")
        first = False
        block_type, length = struct.unpack(endian + "II", raw)
        body_length = length - 12
        if length < 12 or length % 4:
            return tally.stop(src, f"invalid block length {length}")
        meta = block_type in (_SHB, _IDB)
        if meta and body_length > _MAX_META_BLOCK:
            return tally.stop(src, f"oversized block ({length} bytes)")
        wanted = body_length if meta else min(body_length, 20)
        body = body_prefix + src.read(wanted - len(body_prefix))
        rest = body_length - len(body)
        if len(body) < wanted or src.skip(rest) < rest:
            return tally.stop(src, "truncated block")
        trailer = src.read(4)
        if len(trailer) < 4 or struct.unpack(endian + "I", trailer)[0] != length:
            return tally.stop(src, "corrupt block (lengths differ)")
        if block_type == _IDB and len(body) >= 8:
            interfaces.append(_idb(body, endian))
        elif block_type in (_EPB, _PB) and len(body) >= 20:
            if block_type == _EPB:
                iface, high, low, _, original = struct.unpack_from(endian + "5I", body)
            else:
                iface, _, high, low, _, original = struct.unpack_from(endian + "HH4I", body)
            if iface >= len(interfaces):
                return tally.stop(src, f"packet on undeclared interface {iface}")
            _, resolution, offset = interfaces[iface]
            tally.add(original, ((high << 32) | low) / resolution + offset)
        elif block_type == _SPB and len(body) >= 4:
            if not interfaces:
                return tally.stop(src, "packet before any interface")
            tally.add(struct.unpack_from(endian + "I", body)[0], None)


def summarise_export(
    data: bytes, filename: str, limits: ArchiveLimits | None = None
) -> CaptureSummary:
    """Summarise a capture export (zip of captures, or a bare pcap/pcapng, optionally gzip).

    Raises ``CaptureError`` for garbage and hostile archives; damaged captures give a summary of
    what could be read, with ``partial=True`` and a ``reason``.
    """
    tallies: list[_Tally] = []
    for capture in open_export(data, filename, limits):
        tally = _Tally(capture.name)
        source = _Source(capture.head, capture.stream)
        (_count_pcap if capture.kind == "pcap" else _count_pcapng)(source, tally)
        tallies.append(tally)
    firsts = [t.first for t in tallies if t.first is not None]
    lasts = [t.last for t in tallies if t.last is not None]
    reasons = [t.reason for t in tallies if t.reason]
    return CaptureSummary(
        files=tuple(t.name for t in tallies),
        packets=sum(t.packets for t in tallies),
        bytes=sum(t.bytes for t in tallies),
        first_ts=min(firsts) if firsts else None,
        last_ts=max(lasts) if lasts else None,
        partial=bool(reasons),
        reason="; ".join(reasons) or None,
    )
