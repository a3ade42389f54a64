"""Inflate a compressed capture in a thread while the analysis reads what is already inflated.

zlib and the zip CRC release the GIL, so a zip or gzip export is inflated on one core and
analysed on the other, in one pass over the file. The thread reads through the stream it is
given (the archive's budgeted stream, so every zip-bomb limit still applies to each byte) and
stays at most ``AHEAD_BYTES`` in front; whatever it raises is raised to the reader after the
bytes that came before it, as a direct read would have.
"""

from __future__ import annotations

import io
import queue
import threading
from typing import Protocol

AHEAD_BYTES = 4 << 20
_STEP = 64 << 10  # each read of the inner stream
_ITEM = 1 << 20  # handed over in pieces of this size: fewer hand-overs, less GIL contention
_POLL_S = 0.05


class _Source(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class ReadAhead(io.RawIOBase):
    """A readable stream whose bytes a thread reads from ``inner`` ahead of time."""

    def __init__(self, inner: _Source) -> None:
        self._inner = inner
        self._chunks: queue.Queue[bytes | BaseException] = queue.Queue(AHEAD_BYTES // _ITEM)
        self._stop = threading.Event()
        self._left = memoryview(b"")
        self._done = False
        self._thread = threading.Thread(target=self._fill, name="capture-inflate", daemon=True)
        self._thread.start()

    def _put(self, item: bytes | BaseException) -> bool:
        while not self._stop.is_set():
            try:
                self._chunks.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def _fill(self) -> None:
        chunk = bytearray()
        try:
            while not self._stop.is_set():
                data = self._inner.read(_STEP)
                chunk += data
                if data and len(chunk) < _ITEM:
                    continue
                if chunk and not self._put(bytes(chunk)):
                    return
                chunk.clear()
                if not data:
                    self._put(b"")
                    return
        except BaseException as exc:  # handed to the reader, raised there
            if chunk:
                self._put(bytes(chunk))
            self._put(exc)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview, /) -> int:  # type: ignore[override]
        if not self._left:
            if self._done:
                return 0
            item = self._chunks.get()
            if isinstance(item, BaseException):
                self._done = True
                raise item
            if not item:
                self._done = True
                return 0
            self._left = memoryview(item)
        size = min(len(buffer), len(self._left))
        buffer[:size] = self._left[:size]
        self._left = self._left[size:]
        return size

    def read(self, size: int | None = -1, /) -> bytes:
        if size is None or size < 0:
            return self.readall()
        buffer = bytearray(size)
        got = self.readinto(buffer)
        return bytes(buffer[:got])

    def close(self) -> None:
        """Stop the thread (within one read and ``_POLL_S``); the inner stream stays open."""
        if not self.closed:
            self._stop.set()
            self._thread.join()
        super().close()
