"""Read a large bare capture as two halves at once: this process and a forked child, one core each.

The second half starts at a record boundary found near the middle by looking for a chain of
plausible record headers (``find_boundary``; pcapng: a chain of enhanced packet blocks,
``find_block_chain``). That guess is then proven: the first half is read up to it and must end
exactly there, record by record, with no error. A pcapng second half starts from the blocks
before the file's first packet block (its section and interfaces): the first half must also
prove that every section or interface block it applied lies within those blocks. A guess that
does not hold, a read error in either half or a child that dies: ``None``, and the caller reads
the file whole as before, so the result never depends on the guess.
"""

from __future__ import annotations

import io
import os
import pickle
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.capture.archive import CaptureStream
from bot.capture.decode import decode
from bot.capture.records import MAX_RECORD, Reader
from bot.capture.stats import Accumulator

SPLIT_MIN_BYTES = 32 << 20  # below this a fork costs more than it saves
_WINDOW = 256 << 10  # records of up to 64 KiB: a chain of 16 fits in most windows
_CHAIN = 16  # plausible headers in a row that make a boundary worth trying
_MAX_SPAN_S = 366 * 86_400
_LITTLE = (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1")
_MAX_HEAD = 1 << 20  # a pcapng file's blocks before its first packet: a few hundred bytes
_SHB, _SPB, _EPB, _PACKET_BLOCKS = 0x0A0D0D0A, 3, 6, (2, 3, 6)
_MIN_LENGTH = {_SPB: 16, _EPB: 32}
_NG_LITTLE = b"\x4d\x3c\x2b\x1a"
_NSEC = (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")


def find_boundary(window: bytes, header: bytes, first_second: int) -> int | None:
    """The offset in ``window`` of the first of ``_CHAIN`` chained plausible record headers.

    ``header`` is the pcap file header; ``first_second`` the first record's seconds field.
    """
    dtype = np.dtype("<u4" if header[:4] in _LITTLE else ">u4")
    buf = np.frombuffer(window, np.uint8)
    if len(buf) < 16 * _CHAIN:
        return None
    words = np.ndarray((len(buf) - 3,), dtype, buf, 0, (1,)).astype(np.int64)
    top = len(buf) - 16
    seconds, fraction = words[:top], words[4 : top + 4]
    caplen, original = words[8 : top + 8], words[12 : top + 12]
    snaplen = int(np.frombuffer(header[16:20], dtype)[0]) or MAX_RECORD
    plausible = (
        (caplen <= min(max(snaplen, 65_535), MAX_RECORD))
        & (caplen <= original)
        & (fraction < (1_000_000_000 if header[:4] in _NSEC else 1_000_000))
        & (np.abs(seconds - first_second) <= _MAX_SPAN_S)
    )
    for start in np.flatnonzero(plausible)[:100_000].tolist():
        at = start
        for _ in range(_CHAIN):
            if at >= top or not plausible[at]:
                break
            at += 16 + int(caplen[at])
        else:
            return int(start)
    return None


def find_block_chain(window: bytes, big_endian: bool, base: int) -> int | None:
    """The offset in ``window`` of the first of ``_CHAIN`` chained packet blocks (enhanced or
    simple, with matching trailing lengths), at a file offset that is a multiple of 4; ``base``
    is the file offset of ``window[0]``."""
    skip = -base % 4
    usable = (len(window) - skip) // 4 * 4
    if usable < 32 * _CHAIN:
        return None
    dtype = np.dtype(">u4" if big_endian else "<u4")
    words = np.frombuffer(window, dtype, usable // 4, skip)
    word = struct.Struct(">I" if big_endian else "<I").unpack_from
    candidates = np.flatnonzero((words == _EPB) | (words == _SPB))[:100_000] * 4 + skip
    for start in candidates.tolist():
        at = start
        for _ in range(_CHAIN):
            if at + 8 > len(window):
                break
            kind, length = word(window, at)[0], word(window, at + 4)[0]
            if kind not in (_EPB, _SPB) or not _MIN_LENGTH[kind] <= length <= MAX_RECORD:
                break
            if (
                length % 4
                or at + length > len(window)
                or word(window, at + length - 4)[0] != length
            ):
                break
            at += length
        else:
            return int(start)
    return None


def pcapng_head(data: bytes) -> tuple[bytes, bool] | None:
    """The blocks of a pcapng file before its first packet block (what a reader of any later
    part needs: byte order, interfaces) and whether it is big-endian; ``None`` if not found."""
    if len(data) < 12 or data[8:12] not in (_NG_LITTLE, _NG_LITTLE[::-1]):
        return None
    big = data[8:12] != _NG_LITTLE
    two = struct.Struct(">II" if big else "<II").unpack_from
    at = 0
    while at + 12 <= len(data):
        kind, length = two(data, at)
        if at and kind == _SHB:
            return None  # several sections before any packet: read it whole
        if kind in _PACKET_BLOCKS:
            return data[:at], big
        if length < 12 or length % 4 or at + length > len(data):
            return None
        at += length
    return None


@dataclass(frozen=True)
class _Split:
    """Where to cut a file, and what each half's reader starts from."""

    kind: str  # "pcap" or "pcapng"
    head: bytes  # the second half's reader starts with these bytes, then the file from boundary
    first: bytes  # the same for the first half: these bytes, then the file from len(first)
    boundary: int


def _pcap_split(handle: io.BufferedReader, size: int) -> _Split | None:
    header = handle.read(24)
    first = handle.read(4)
    handle.seek(size // 2)
    window = handle.read(_WINDOW)
    if len(header) < 24 or len(first) < 4:
        return None
    dtype = np.dtype("<u4" if header[:4] in _LITTLE else ">u4")
    offset = find_boundary(window, header, int(np.frombuffer(first, dtype)[0]))
    return None if offset is None else _Split("pcap", header, header, size // 2 + offset)


def _pcapng_split(handle: io.BufferedReader, size: int) -> _Split | None:
    found = pcapng_head(handle.read(_MAX_HEAD))
    if found is None:
        return None
    head, big = found
    handle.seek(size // 2)
    offset = find_block_chain(handle.read(_WINDOW), big, size // 2)
    if offset is None or size // 2 + offset <= len(head):
        return None
    return _Split("pcapng", head, b"", size // 2 + offset)


class _Bounded(io.RawIOBase):
    """A file read from where it stands up to ``length`` bytes further, then end of file."""

    def __init__(self, handle: io.BufferedReader, length: int) -> None:
        self._handle, self._left = handle, length

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview, /) -> int:  # type: ignore[override]
        view = memoryview(buffer)[: self._left]
        got = self._handle.readinto(view) if len(view) else 0
        self._left -= got or 0
        return got or 0


def _read(path: Path, name: str, split: _Split, second: bool, acc: Accumulator) -> bool:
    """Add one half's records to ``acc``; False unless they end where the half ends, read
    without error, and (the first half of a pcapng file) declare every section and interface
    in the blocks the second half starts from."""
    start, end = (
        (split.boundary, path.stat().st_size) if second else (len(split.first), split.boundary)
    )
    head = split.head if second else split.first
    with path.open("rb") as handle:
        handle.seek(start)
        stream = _Bounded(handle, end - start)
        reader = Reader(CaptureStream(name, split.kind, head, stream))
        for batch in reader.batches():
            acc.add(batch, decode(batch))
    return reader.error is None and (second or reader.interfaces_end <= len(split.head))


def _in_child(work: Callable[[], Accumulator | None]) -> tuple[int, int]:
    """Fork; the child runs ``work`` and writes its pickled result to the pipe whose reading
    end is returned with the child's pid."""
    readable, writable = os.pipe()
    pid = os.fork()
    if pid:
        os.close(writable)
        return pid, readable
    status = 1
    try:  # the child: never returns into the caller's code
        os.close(readable)
        with os.fdopen(writable, "wb") as out:
            pickle.dump(work(), out, protocol=pickle.HIGHEST_PROTOCOL)
        status = 0
    finally:
        os._exit(status)


def _collect(pid: int, readable: int) -> Accumulator | None:
    with os.fdopen(readable, "rb") as source:
        data = source.read()
    _, status = os.waitpid(pid, 0)
    if status != 0 or not data:
        return None
    result = pickle.loads(data)
    return result if isinstance(result, Accumulator) else None


def accumulate_in_halves(
    path: Path, kind: str, name: str, new: Callable[[], Accumulator]
) -> Accumulator | None:
    """The totals of the bare pcap or pcapng ``path`` (``kind``), its halves read at once;
    ``None`` when it cannot be split (too small, no boundary found, a damaged record, a change
    of interfaces in the first half, a child that died)."""
    size = path.stat().st_size
    if size < SPLIT_MIN_BYTES or not hasattr(os, "fork"):  # no fork on Windows: read it whole
        return None
    with path.open("rb") as handle:
        split = (_pcap_split if kind == "pcap" else _pcapng_split)(handle, size)
    if split is None:
        return None

    def second_half() -> Accumulator | None:
        acc = new()
        return acc if _read(path, name, split, True, acc) else None

    pid, readable = _in_child(second_half)
    acc = new()
    try:
        whole = _read(path, name, split, False, acc)
    finally:
        second = _collect(pid, readable)
    if not whole or second is None:
        return None
    acc.merge(second)
    return acc
