"""A bare pcap read as two halves at once gives exactly what reading it whole gives."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from capture_files import mixed_frames, pcap_of, pcapng_of

from bot.capture import halves
from bot.capture.analyse import analyse_path
from bot.capture.model import AnalysisOptions
from bot.capture.stats import Accumulator

FRAMES = mixed_frames(30_000)


@pytest.fixture(autouse=True)
def _split_small_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(halves, "SPLIT_MIN_BYTES", 0)


def _both(path: Path) -> tuple[dict[str, object], dict[str, object]]:
    whole = analyse_path(path, AnalysisOptions(processes=1)).to_dict()
    split = analyse_path(path, AnalysisOptions(processes=2)).to_dict()
    return whole, split


@pytest.mark.parametrize("big_endian", [False, True])
@pytest.mark.parametrize("nanoseconds", [False, True])
@pytest.mark.parametrize("snaplen", [65535, 96])
def test_halves_equal_the_whole(
    tmp_path: Path, big_endian: bool, nanoseconds: bool, snaplen: int
) -> None:
    path = tmp_path / "mixed.pcap"
    path.write_bytes(pcap_of(FRAMES, big_endian, nanoseconds, snaplen))
    assert (
        halves.accumulate_in_halves(path, "pcap", path.name, Accumulator) is not None
    )  # it did split
    whole, split = _both(path)
    assert split == whole
    assert whole["summary"]["packets"] == len(FRAMES)


def test_a_truncated_last_record_reads_whole_and_is_partial(tmp_path: Path) -> None:
    path = tmp_path / "cut.pcap"
    path.write_bytes(pcap_of(FRAMES)[:-7])
    assert halves.accumulate_in_halves(path, "pcap", path.name, Accumulator) is None
    whole, split = _both(path)
    assert split == whole
    assert whole["summary"]["partial"] is True


def test_a_lying_length_in_the_second_half_reads_whole(tmp_path: Path) -> None:
    data = bytearray(pcap_of(FRAMES))
    at, seen = 24, 0
    while at < len(data) * 3 // 4:  # the record header three quarters in
        at += 16 + struct.unpack_from("<I", data, at + 8)[0]
        seen += 1
    struct.pack_into("<I", data, at + 8, 1 << 30)
    path = tmp_path / "lying.pcap"
    path.write_bytes(bytes(data))
    assert halves.accumulate_in_halves(path, "pcap", path.name, Accumulator) is None
    whole, split = _both(path)
    assert split == whole
    assert whole["summary"]["packets"] == seen
    assert "corrupt packet header" in str(whole["summary"]["reason"])


def test_the_boundary_found_is_a_record_start() -> None:
    data = pcap_of(FRAMES[:2000])
    starts, at = set(), 24
    while at < len(data):
        starts.add(at)
        at += 16 + struct.unpack_from("<I", data, at + 8)[0]
    first_second = struct.unpack_from("<I", data, 24)[0]
    for near in (100, 5_000, 50_000):
        offset = halves.find_boundary(data[near : near + 64_000], data[:24], first_second)
        assert offset is not None and near + offset in starts
    assert halves.find_boundary(bytes(64_000), data[:24], first_second) is None  # no records


@pytest.mark.parametrize("big_endian", [False, True])
def test_pcapng_halves_equal_the_whole(tmp_path: Path, big_endian: bool) -> None:
    path = tmp_path / "mixed.pcapng"
    path.write_bytes(pcapng_of(FRAMES, big_endian, interfaces=((1, 6), (1, 9), (101, 6))))
    assert halves.accumulate_in_halves(path, "pcapng", path.name, Accumulator) is not None
    whole, split = _both(path)
    assert split == whole
    assert whole["summary"]["packets"] == len(FRAMES)
    assert whole["summary"]["link_types"] == {"ethernet": 20_000, "raw-ip": 10_000}


def test_a_pcapng_new_section_in_the_second_half_still_splits(tmp_path: Path) -> None:
    path = tmp_path / "sections.pcapng"
    path.write_bytes(pcapng_of(FRAMES, new_section_at=25_000, simple_every=7))
    assert halves.accumulate_in_halves(path, "pcapng", path.name, Accumulator) is not None
    whole, split = _both(path)
    assert split == whole
    assert whole["summary"]["packets"] == len(FRAMES)


@pytest.mark.parametrize("change", ["new_interface_at", "new_section_at"])
def test_a_pcapng_interface_change_in_the_first_half_reads_whole(
    tmp_path: Path, change: str
) -> None:
    path = tmp_path / "changed.pcapng"
    path.write_bytes(pcapng_of(FRAMES, **{change: 5_000}))  # type: ignore[arg-type]
    assert halves.accumulate_in_halves(path, "pcapng", path.name, Accumulator) is None
    whole, split = _both(path)
    assert split == whole
    assert whole["summary"]["packets"] == len(FRAMES)


def test_a_lying_pcapng_block_length_in_the_second_half_reads_whole(tmp_path: Path) -> None:
    data = bytearray(pcapng_of(FRAMES))
    at = 0
    while at < len(data) * 3 // 4:
        at += struct.unpack_from("<I", data, at + 4)[0]
    struct.pack_into("<I", data, at + 4, 1 << 30)
    path = tmp_path / "lying.pcapng"
    path.write_bytes(bytes(data))
    assert halves.accumulate_in_halves(path, "pcapng", path.name, Accumulator) is None
    whole, split = _both(path)
    assert split == whole
    assert whole["summary"]["partial"] is True


def test_the_pcapng_boundary_found_is_a_block_start() -> None:
    data = pcapng_of(FRAMES[:2000], big_endian=True)
    starts, at = set(), 0
    while at < len(data):
        starts.add(at)
        at += struct.unpack_from(">I", data, at + 4)[0]
    for near in (101, 5_002, 50_003):
        offset = halves.find_block_chain(data[near : near + 64_000], True, near)
        assert offset is not None and near + offset in starts
    assert halves.find_block_chain(bytes(64_000), True, 0) is None
    head = halves.pcapng_head(data)
    assert (
        head is not None
        and head[1] is True
        and data[len(head[0]) : len(head[0]) + 4] == b"\0\0\0\6"
    )


def test_interfaces_declared_after_a_skipped_block_keep_a_pcapng_whole(tmp_path: Path) -> None:
    """A too-short packet block is skipped when reading, but ends the blocks a second half
    would start from: the interfaces declared after it must keep the file whole."""
    short = struct.pack("<II", 6, 28) + bytes(16) + struct.pack("<I", 28)
    path = tmp_path / "short.pcapng"
    path.write_bytes(
        pcapng_of([], interfaces=((1, 6),)) + short + pcapng_of(FRAMES, interfaces=((101, 9),))
    )
    assert halves.accumulate_in_halves(path, "pcapng", path.name, Accumulator) is None
    whole, split = _both(path)
    assert split == whole
    assert whole["summary"]["link_types"] == {"raw-ip": len(FRAMES)}
