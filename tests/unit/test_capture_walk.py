"""The pcap record walk compiled at install (bot/capture/_walk.c) finds exactly the records the
Python walk finds, on well-formed, truncated and hostile buffers, in both byte orders."""

from __future__ import annotations

import random
import struct

import numpy as np
import pytest
from capture_files import outcome, sample_captures

from bot.capture import records
from bot.capture.records import walk_pcap

needs_compiled = pytest.mark.skipif(
    records.COMPILED is None, reason="the compiled walk was not built (no C compiler at install)"
)


def _records(rng: random.Random, endian: str, count: int) -> bytes:
    out = bytearray()
    for _ in range(count):
        caplen = rng.choice((0, 1, 14, 60, 64, 1514, rng.randrange(0, 9000)))
        out += struct.pack(endian + "IIII", rng.randrange(1 << 31), 0, caplen, caplen)
        out += rng.randbytes(caplen)
    return bytes(out)


def _both(buf: bytes | memoryview, endian: str) -> tuple[list[int], int]:
    fast, fast_end = walk_pcap(buf, endian == ">")
    slow, slow_end = walk_pcap(buf, endian == ">", compiled=False)
    assert fast.dtype == slow.dtype == np.int64
    assert fast.tolist() == slow.tolist() and fast_end == slow_end
    return fast.tolist(), fast_end


@needs_compiled
@pytest.mark.parametrize("endian", ["<", ">"])
def test_the_compiled_walk_finds_what_the_python_walk_finds(endian: str) -> None:
    rng = random.Random(7)
    for count in (0, 1, 2, 50, 3000):
        whole = _records(rng, endian, count)
        starts, end = _both(whole, endian)
        assert len(starts) == count and end == len(whole)
        for cut in {0, 1, 15, 16, 17, len(whole) // 2, max(len(whole) - 1, 0)}:
            _both(whole[:cut], endian)  # a record cut short is given back
        _both(memoryview(whole)[3:], endian)  # not on a record boundary: garbage lengths
        _both(whole + rng.randbytes(40), endian)


@needs_compiled
def test_hostile_lengths_end_the_walk_without_reading_past_the_buffer() -> None:
    huge = struct.pack("<IIII", 0, 0, 0xFFFFFFFF, 0xFFFFFFFF) + b"x" * 64
    assert _both(huge, "<") == ([], 0)
    chain = _records(random.Random(1), "<", 10) + huge
    starts, end = _both(chain, "<")
    assert len(starts) == 10 and end == len(chain) - len(huge)


@needs_compiled
@pytest.mark.parametrize("big_endian", [False, True])
def test_header_words_are_gathered_as_numpy_gathers_them(
    big_endian: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(11)
    buf = memoryview(rng.randbytes(5000))[7:]  # not aligned: records start anywhere
    starts = np.asarray(sorted(rng.sample(range(8, len(buf) - 40), 300)), np.int64)
    cases = [(starts, k) for k in (0, 4, 8, 12, 36, -4, -8)] + [(starts[::3], 0)]  # strided
    outside = [(np.asarray([len(buf) - 3], np.int64), 0), (np.asarray([5], np.int64), -9)]
    outside += [(starts[:1], 1 << 62), (starts[:1], -(1 << 62))]
    outside += [(np.asarray([(1 << 63) - 1], np.int64), 4), (np.asarray([-4], np.int64), 4)]

    def gathered() -> list[list[int]]:
        for at, offset in outside:
            with pytest.raises(ValueError, match="past the buffer"):
                records.Words(buf, big_endian).at(at, offset)
        return [records.Words(buf, big_endian).at(at, k).tolist() for at, k in cases]

    fast = gathered()
    monkeypatch.setattr(records, "COMPILED_WORDS", None)
    assert gathered() == fast
    order = "big" if big_endian else "little"
    assert fast[0][0] == int.from_bytes(buf[starts[0] : starts[0] + 4], order)
    assert fast[5][0] == int.from_bytes(buf[starts[0] - 4 : starts[0]], order)


@needs_compiled
def test_analyses_are_the_same_with_and_without_the_compiled_walks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inputs = sample_captures(400)
    assert any(name.endswith(".pcapng") for name, _ in inputs)
    compiled = [outcome(name, data) for name, data in inputs]
    monkeypatch.setattr(records, "COMPILED", None)
    monkeypatch.setattr(records, "COMPILED_EPBS", None)
    monkeypatch.setattr(records, "COMPILED_WORDS", None)
    assert [outcome(name, data) for name, data in inputs] == compiled
