"""Read-ahead inflation hands over every byte in order, then the inner stream's error."""

from __future__ import annotations

import io
import threading

import pytest

from bot.capture.ahead import ReadAhead


class _Failing:
    """Gives ``data`` in small reads, then raises ``error``."""

    def __init__(self, data: bytes, error: Exception) -> None:
        self._data, self._error, self._at = data, error, 0

    def read(self, size: int = -1, /) -> bytes:
        if self._at >= len(self._data):
            raise self._error
        piece = self._data[self._at : self._at + min(size, 1000)]
        self._at += len(piece)
        return piece


def _drain(stream: ReadAhead, step: int) -> bytes:
    out = bytearray()
    while piece := stream.read(step):
        out += piece
    return bytes(out)


@pytest.mark.parametrize("step", [1, 777, 1 << 20])
def test_every_byte_arrives_in_order(step: int) -> None:
    data = bytes(range(256)) * 2_000  # 512 KiB: several hand-overs
    with ReadAhead(io.BytesIO(data)) as stream:
        assert _drain(stream, step) == data


def test_the_inner_error_comes_after_the_bytes_before_it() -> None:
    data = b"x" * 150_000
    with ReadAhead(_Failing(data, EOFError("cut short"))) as stream:
        got = stream.read(100_000)
        got += stream.read(100_000)
        assert got == data
        with pytest.raises(EOFError, match="cut short"):
            stream.read(10)


def test_closing_early_stops_the_thread() -> None:
    before = threading.active_count()
    stream = ReadAhead(io.BytesIO(bytes(64 << 20)))  # more than it may read ahead
    assert stream.read(10) == bytes(10)
    stream.close()
    assert threading.active_count() == before
