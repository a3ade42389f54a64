"""Stream a pcap or pcapng capture as batches of records, their headers parsed with numpy.

A short Python loop only finds where each record starts (the chain of lengths is sequential);
every header field is then gathered for the whole chunk at once.
"""

from __future__ import annotations

import lzma
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bot.capture.archive import CaptureStream
from bot.errors import CaptureError

CHUNK = 8 << 20
READ_STEP = 64 << 10
MAX_RECORD = 16 << 20  # larger "packets" mean a corrupt record header
_MAX_META_BLOCK = 1 << 20
MAX_INTERFACES = 4096  # a capture has a few; millions mean a hostile file
_NSEC_MAGICS = (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
_LITTLE_MAGICS = (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1")
_SHB, _IDB, _PB, _SPB, _EPB = 0x0A0D0D0A, 1, 2, 3, 6

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
U8 = npt.NDArray[np.uint8]
Data = bytes | memoryview


@dataclass(frozen=True)
class Batch:
    """Records of one chunk: ``buf[data[i] : data[i] + caplen[i]]`` is packet ``i``."""

    buf: U8
    data: I64
    caplen: I64
    origlen: I64
    ts: F64  # epoch seconds; NaN where the format stores none (pcapng simple packets)
    link: I64  # link-layer type of each record


# the walks in C, when they were built at install (bot/capture/_walk.c); else None
COMPILED: Callable[[Data, bool], tuple[bytes, int]] | None
COMPILED_EPBS: Callable[[Data, int, bool, int], tuple[bytes, int]] | None
COMPILED_WORDS: Callable[[Data, I64, int, bool], bytes] | None
try:
    from bot.capture._walk import epbs as _compiled_epbs
    from bot.capture._walk import walk as _compiled
    from bot.capture._walk import words as _compiled_words

    COMPILED, COMPILED_EPBS, COMPILED_WORDS = _compiled, _compiled_epbs, _compiled_words
except ImportError:
    COMPILED = COMPILED_EPBS = COMPILED_WORDS = None


_CAPLEN_OF = {False: struct.Struct("<8xI").unpack_from, True: struct.Struct(">8xI").unpack_from}


class Words:
    """One 4-byte header field of every record of a chunk, at once: compiled when it can be,
    else one numpy gather from the buffer viewed as words at every byte offset (stride 1)."""

    def __init__(self, buf: Data, big_endian: bool) -> None:
        self._buf, self._big = buf, big_endian
        self._view: npt.NDArray[np.uint32] | None = None

    def at(self, starts: I64, offset: int) -> I64:
        if COMPILED_WORDS is not None:
            packed = COMPILED_WORDS(
                self._buf, np.ascontiguousarray(starts, np.int64), offset, self._big
            )
            return np.frombuffer(packed, np.int64)
        if self._view is None:
            arr = np.frombuffer(self._buf, np.uint8)
            dtype = np.dtype(">u4" if self._big else "<u4")
            self._view = np.ndarray((max(len(arr) - 3, 0),), dtype, arr, 0, (1,))
        at, size = starts + offset, len(self._view) + 3
        # as the compiled one: every start inside the buffer, and its field too
        if len(at) and not (
            0 <= int(starts.min()) <= int(starts.max()) <= size
            and 0 <= int(at.min()) <= int(at.max()) < len(self._view)
        ):
            raise ValueError("words: a field past the buffer")
        return self._view[at].astype(np.int64)


class _Offsets:
    """Where the enhanced packet blocks of a chunk start, in file order: found one by one (the
    Python walk) or as runs (the compiled walk), kept as arrays, not as lists of ints."""

    def __init__(self) -> None:
        self._runs: list[I64] = []
        self._ones: list[int] = []

    def add(self, pos: int) -> None:
        self._ones.append(pos)

    def run(self, packed: bytes) -> None:
        self._flush()
        self._runs.append(np.frombuffer(packed, np.int64))

    def _flush(self) -> None:
        if self._ones:
            self._runs.append(np.asarray(self._ones, np.int64))
            self._ones = []

    def __bool__(self) -> bool:
        return bool(self._ones) or any(len(run) for run in self._runs)

    def array(self) -> I64:
        self._flush()
        return self._runs[0] if len(self._runs) == 1 else np.concatenate(self._runs)


def walk_pcap(buf: Data, big_endian: bool, *, compiled: bool = True) -> tuple[I64, int]:
    """Where each whole pcap record of ``buf`` starts, and where the walk stopped (the first
    record that does not fit whole, or the end): compiled when it can be, else in Python."""
    if compiled and COMPILED is not None:
        packed, pos = COMPILED(buf, big_endian)
        return np.frombuffer(packed, np.int64), pos
    caplen_of = _CAPLEN_OF[big_endian]
    pos, starts = 0, list[int]()
    size = len(buf)
    end, add = size - 16, starts.append
    while pos <= end:  # the hot loop: a record longer than MAX_RECORD never fits
        add(pos)
        pos += 16 + caplen_of(buf, pos)[0]
    if pos > size:  # the last record did not fit: give it back
        pos = starts.pop()
    return np.asarray(starts, np.int64), pos


class Reader:
    """Iterate ``batches()``; afterwards ``error`` says why reading stopped early, if it did."""

    def __init__(self, capture: CaptureStream, chunk: int = CHUNK) -> None:
        self.name, self.kind = capture.name, capture.kind
        self._stream, self._chunk = capture.stream, chunk
        self._store = bytearray(capture.head)
        self._buf, self._eof = memoryview(self._store), False
        self._io_error: str | None = None
        self.error: str | None = None
        # pcapng: where the last section or interface block applied ends, from the capture's
        # start (a part of the file read from its first blocks alone knows only those before)
        self.interfaces_end = 0

    def _fill(self, need: int) -> bool:
        """Buffer at least ``need`` bytes (a full chunk if possible); True if they are there.

        Reads into one reusable buffer: a batch is consumed before the next fill overwrites it.
        """
        have = len(self._buf)
        if have >= need or self._eof:
            return have >= need
        want = max(self._chunk, need)
        left = bytes(self._buf)
        if len(self._store) < want:
            self._store = bytearray(want)
        view = memoryview(self._store)
        view[:have] = left
        readinto = getattr(self._stream, "readinto", None)
        while have < want:
            # Small reads: a zip member's CRC error surfaces on the read that reaches its end
            # and loses what that read returned, so keep each read short.
            upto = min(want, have + READ_STEP)
            try:
                if readinto is not None:
                    got = readinto(view[have:upto]) or 0
                else:
                    data = self._stream.read(upto - have)
                    got = len(data)
                    view[have : have + got] = data
            except (OSError, EOFError, zlib.error, zipfile.BadZipFile, lzma.LZMAError) as exc:
                self._eof, self._io_error = True, f"decompression failed ({exc})"
                break
            if not got:
                self._eof = True
                break
            have += got
        self._buf = view[:have]
        return have >= need

    def _stop(self, why: str, packets: int) -> None:
        self.error = f"{self._io_error or why} after {packets} packet(s)"

    def batches(self) -> Iterator[Batch]:
        """Every record, chunk by chunk."""
        if self.kind == "pcap":
            yield from self._pcap()
        else:
            yield from self._pcapng()

    def _pcap(self) -> Iterator[Batch]:
        if not self._fill(24):
            why = self._io_error or "the pcap file header is truncated"
            raise CaptureError(f"{self.name}: {why}", reason="garbage")
        head = bytes(self._buf[:24])
        endian = "<" if head[:4] in _LITTLE_MAGICS else ">"
        scale = 1e-9 if head[:4] in _NSEC_MAGICS else 1e-6
        link = struct.unpack(endian + "I", head[20:24])[0] & 0xFFFF  # upper bits: FCS info
        caplen_at = struct.Struct(endian + "I").unpack_from
        self._buf, count = self._buf[24:], 0
        while True:
            self._fill(self._chunk)
            buf = self._buf
            end = len(buf) - 16
            at, pos = walk_pcap(buf, endian == ">")
            if len(at):
                arr = np.frombuffer(buf, np.uint8)
                words = Words(buf, endian == ">")
                count += len(at)
                yield Batch(
                    arr,
                    at + 16,
                    words.at(at, 8),
                    words.at(at, 12),
                    words.at(at, 0) + words.at(at, 4) * scale,
                    np.full(len(at), link, np.int64),
                )
            self._buf = buf[pos:]
            if pos <= end:  # a record that did not fit: corrupt, or needs more data
                (caplen,) = caplen_at(buf, pos + 8)
                if caplen > MAX_RECORD:
                    return self._stop(f"corrupt packet header (claims {caplen} bytes)", count)
                if self._fill(16 + caplen):
                    continue
                return self._stop("truncated packet data", count)
            if self._eof and len(self._buf) < 16:
                if self._buf or self._io_error:
                    self._stop("truncated packet header", count)
                return

    def _pcapng(self) -> Iterator[Batch]:
        if not self._fill(12) or bytes(self._buf[8:12]) not in (
            b"\x4d\x3c\x2b\x1a",
            b"\x1a\x2b\x3c\x4d",
        ):
            raise CaptureError(f"{self.name}: invalid pcapng header", reason="garbage")
        section = _Section(bytes(self._buf[8:12]))
        count, at = 0, 0  # at: where buf starts, from the capture's start
        while True:
            self._fill(self._chunk)
            buf, pos = self._buf, 0
            end, epbs, stop = len(buf) - 12, _Offsets(), ""
            singles: list[_Single] = []  # simple/obsolete packet blocks, batched like EPBs
            two, one, add = section.two, section.one, epbs.add
            size = len(buf)
            while pos <= end:
                kind, length = two(buf, pos)
                # the hot path: an enhanced packet block that fits; its trailing length is
                # checked for the whole batch at once (Section.epbs), the first bad one ends it
                if (
                    kind == _EPB
                    and 32 <= length <= MAX_RECORD
                    and not length % 4
                    and pos + length <= size
                    and not singles
                ):
                    if COMPILED_EPBS is not None:  # the run of them, at once
                        found, pos = COMPILED_EPBS(buf, pos, section.big, MAX_RECORD)
                        epbs.run(found)
                        continue
                    add(pos)
                    pos += length
                    continue
                if kind == _SHB:
                    if epbs:
                        break  # the byte order may change: finish this batch first
                    order = bytes(buf[pos + 8 : pos + 12])
                    if order not in (b"\x4d\x3c\x2b\x1a", b"\x1a\x2b\x3c\x4d"):
                        stop = "invalid section header"
                        break
                    section = _Section(order)
                    two, one = section.two, section.one
                    kind, length = two(buf, pos)
                if length < 12 or length % 4 or length > MAX_RECORD:
                    stop = f"invalid block length {length}"
                    break
                if pos + length > len(buf):
                    break
                if one(buf, pos + length - 4)[0] != length:
                    stop = "corrupt block (lengths differ)"
                    break
                if kind == _EPB and length >= 32:
                    if singles:
                        break  # keep records in file order
                    add(pos)
                elif kind in (_SHB, _IDB, _SPB, _PB):
                    if epbs or (singles and kind in (_SHB, _IDB)):
                        break  # keep records in file order; interfaces may change
                    if kind in (_SHB, _IDB):
                        self.interfaces_end = at + pos + length
                    stop = section.meta(kind, buf, pos, length)
                    if stop:
                        break
                    if kind in (_SPB, _PB):
                        single = section.single(kind, buf, pos, length)
                        if single is None:
                            stop = "packet on an undeclared interface"
                            break
                        singles.append(single)
                pos += length
            if singles:
                count += len(singles)
                yield _batch_of(np.frombuffer(buf, np.uint8), singles)
            if epbs:
                batch, bad = section.epbs(buf, epbs.array())
                count += len(batch.data)
                yield batch
                if bad:
                    return self._stop(bad, count)
            self._buf, at = buf[pos:], at + pos
            if stop:
                return self._stop(stop, count)
            if pos <= end and not epbs and not singles:  # a block that did not fit
                if self._fill(section.head(self._buf, 0)[1]):
                    continue
                return self._stop("truncated block", count)
            if self._eof and len(self._buf) < 12:
                if self._buf or self._io_error:
                    self._stop("truncated block header", count)
                return


class _Section:
    """Byte order and interfaces of one pcapng section."""

    def __init__(self, order: bytes) -> None:
        self.endian = "<" if order == b"\x4d\x3c\x2b\x1a" else ">"
        self.big = self.endian == ">"
        self.two = struct.Struct(self.endian + "II").unpack_from
        self.one = struct.Struct(self.endian + "I").unpack_from
        self.links: list[int] = []
        self.snaplens: list[int] = []
        self.resolutions: list[float] = []
        self.offsets: list[float] = []

    def head(self, buf: Data, pos: int) -> tuple[int, int]:
        kind, length = self.two(buf, pos)
        return int(kind), int(length)

    def length_at(self, buf: Data, pos: int) -> int:
        return int(self.one(buf, pos)[0])

    def meta(self, kind: int, buf: Data, pos: int, length: int) -> str:
        """Apply a section or interface block; a reason to stop, or ''."""
        if kind == _SHB:
            self.links, self.snaplens, self.resolutions, self.offsets = [], [], [], []
        elif kind == _IDB:
            if length < 20 or length > _MAX_META_BLOCK:
                return f"invalid interface block ({length} bytes)"
            if len(self.links) >= MAX_INTERFACES:  # their tables would grow with the file
                return f"more than {MAX_INTERFACES} interfaces in one section"
            link, _, snaplen = struct.unpack_from(self.endian + "HHI", buf, pos + 8)
            resolution, offset = _options(buf[pos + 16 : pos + length - 4], self.endian)
            self.links.append(link)
            self.snaplens.append(snaplen)
            self.resolutions.append(resolution)
            self.offsets.append(offset)
        return ""

    def single(self, kind: int, buf: Data, pos: int, length: int) -> _Single | None:
        """A simple or obsolete packet block: (data, caplen, original, ts, link)."""
        if kind == _SPB:
            if not self.links or length < 16:
                return None
            original = self.length_at(buf, pos + 8)
            caplen = min(original, length - 16, self.snaplens[0] or original)
            return (pos + 12, caplen, original, float("nan"), self.links[0])
        if length < 32:
            return None
        iface, _, high, low, caplen, original = struct.unpack_from(
            self.endian + "HH4I", buf, pos + 8
        )
        if iface >= len(self.links) or caplen > length - 32:
            return None
        ts = ((high << 32) | low) / self.resolutions[iface] + self.offsets[iface]
        return (pos + 28, caplen, original, ts, self.links[iface])

    def epbs(self, buf: Data, at: I64) -> tuple[Batch, str]:
        """Enhanced packet blocks starting at ``at``; cut at the first corrupt one."""
        arr, words = np.frombuffer(buf, np.uint8), Words(buf, self.big)
        lengths = words.at(at, 4)
        trailing = words.at(at + lengths, -4)
        iface, high, low, caplen, original = (words.at(at, i) for i in (8, 12, 16, 20, 24))
        differ = trailing != lengths
        bad = differ | (iface >= len(self.links)) | (caplen > lengths - 32)
        why = ""
        if bad.any():
            first = int(np.argmax(bad))
            if differ[first]:  # what the walk itself found first, block by block, before
                why = "corrupt block (lengths differ)"
            elif iface[first] >= len(self.links):
                why = f"packet on undeclared interface {int(iface[first])}"
            else:
                why = "corrupt block (packet longer than its block)"
            at, iface, high, low = at[:first], iface[:first], high[:first], low[:first]
            caplen, original = caplen[:first], original[:first]
        table = np.asarray(self.links or [0], np.int64)
        resolution = np.asarray(self.resolutions or [1.0], np.float64)[iface]
        offset = np.asarray(self.offsets or [0.0], np.float64)[iface]
        stamp = (high.astype(np.uint64) << np.uint64(32)) | low.astype(np.uint64)
        ts = stamp.astype(np.float64) / resolution + offset
        return Batch(arr, at + 28, caplen, original, ts, table[iface]), why


_Single = tuple[int, int, int, float, int]  # data offset, caplen, original, ts, link


def _batch_of(arr: U8, singles: list[_Single]) -> Batch:
    """Many simple/obsolete packet blocks as one batch: decoded at numpy speed, not one by one."""
    data, caplen, original, ts, link = zip(*singles, strict=True)

    def column(values: tuple[int, ...]) -> I64:
        return np.asarray(values, np.int64)

    return Batch(
        arr,
        column(data),
        column(caplen),
        column(original),
        np.asarray(ts, np.float64),
        column(link),
    )


def _options(body: Data, endian: str) -> tuple[float, float]:
    """(timestamp units per second, timestamp offset) from an interface block's options."""
    resolution, offset, pos = 1_000_000.0, 0.0, 0
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
    return resolution or 1_000_000.0, offset
