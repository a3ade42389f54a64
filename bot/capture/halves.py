"""Read a large bare pcap as two halves at once: this process and a forked child, one core each.

The second half starts at a record boundary found near the middle by looking for a chain of
plausible record headers (``find_boundary``). That guess is then proven: the first half is read
up to it and must end exactly there, record by record, with no error. A guess that does not
hold, a read error in either half or a child that dies: ``None``, and the caller reads the file
whole as before, so the result never depends on the guess.
"""

from __future__ import annotations

import io
import os
import pickle
from collections.abc import Callable
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


def _read(path: Path, name: str, header: bytes, start: int, end: int, acc: Accumulator) -> bool:
    """Add the records in ``[start, end)`` of ``path`` to ``acc``; False unless they end at
    ``end`` exactly and read without error."""
    with path.open("rb") as handle:
        handle.seek(start)
        reader = Reader(CaptureStream(name, "pcap", header, _Bounded(handle, end - start)))
        for batch in reader.batches():
            acc.add(batch, decode(batch))
    return reader.error is None


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
    path: Path, name: str, new: Callable[[], Accumulator]
) -> Accumulator | None:
    """The totals of the bare pcap ``path``, its halves read at once; ``None`` when it cannot
    be split (too small, no boundary found, a damaged record, a child that died)."""
    size = path.stat().st_size
    if size < SPLIT_MIN_BYTES or not hasattr(os, "fork"):  # no fork on Windows: read it whole
        return None
    with path.open("rb") as handle:
        header = handle.read(24)
        first = handle.read(4)
        handle.seek(size // 2)
        window = handle.read(_WINDOW)
    if len(header) < 24 or len(first) < 4:
        return None
    dtype = np.dtype("<u4" if header[:4] in _LITTLE else ">u4")
    offset = find_boundary(window, header, int(np.frombuffer(first, dtype)[0]))
    if offset is None:
        return None
    boundary = size // 2 + offset

    def second_half() -> Accumulator | None:
        acc = new()
        return acc if _read(path, name, header, boundary, size, acc) else None

    pid, readable = _in_child(second_half)
    acc = new()
    try:
        whole = _read(path, name, header, 24, boundary, acc)
    finally:
        second = _collect(pid, readable)
    if not whole or second is None:
        return None
    acc.merge(second)
    return acc
