"""Hostile and damaged exports: clear errors or partial summaries, bounded time and memory."""

from __future__ import annotations

import contextlib
import gzip
import io
import struct
import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from bot.capture import AnalysisOptions, ArchiveLimits, Verdict, analyse_export, analyse_in_worker
from bot.errors import CaptureError
from bot.simulator.pcapgen import pcap_bytes, traffic

T0 = 1_736_500_000.0
HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)


def zipped(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def capture(rounds: int = 2) -> bytes:
    return pcap_bytes(traffic(T0, T0 + 10, rounds, seed=5))


def test_zip_bomb_is_refused_while_streaming() -> None:
    bomb = zipped({"eth1.pcap": HEADER + bytes(20 << 20)})
    tracemalloc.start()
    try:
        with pytest.raises(CaptureError, match="ratio"):
            analyse_export(bomb, "capture.zip")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 40 << 20  # one read buffer, never the whole 20 MiB... plus slack
    with pytest.raises(CaptureError, match="ratio"):
        analyse_export(gzip.compress(HEADER + bytes(20 << 20)), "eth1.pcap.gz")


def test_total_size_limit() -> None:
    options = AnalysisOptions(limits=ArchiveLimits(max_total_bytes=4096))
    with pytest.raises(CaptureError, match="beyond 4096 bytes"):
        analyse_export(zipped({"eth1.pcap": capture(20)}), "capture.zip", options)


@pytest.mark.parametrize("name", ["../evil.pcap", "/etc/evil.pcap", "a/../../evil.pcap"])
def test_path_traversal(name: str) -> None:
    with pytest.raises(CaptureError, match="unsafe path"):
        analyse_export(zipped({name: capture()}), "capture.zip")


def test_nested_archive() -> None:
    with pytest.raises(CaptureError, match="nested"):
        analyse_export(zipped({"eth1.pcap": zipped({"x.pcap": capture()})}), "capture.zip")


@pytest.mark.parametrize(
    "data", [b"", b"garbage" * 100, b"<html>expired</html>", b"\xd4\xc3\xb2\xa1\x02"]
)
def test_garbage(data: bytes) -> None:
    with pytest.raises(CaptureError):
        analyse_export(data, "upload.bin")


def test_truncated_capture_is_partial() -> None:
    analysis = analyse_export(capture()[:-10], "cut.pcap")
    assert analysis.summary.partial and analysis.summary.packets == 35
    assert "partial" in {reason.code for reason in analysis.reasons}


@pytest.mark.parametrize("length", [0xFFFF_FFF0, 17 << 20, 70_000])
def test_lying_record_length_is_partial(length: int) -> None:
    data = capture() + struct.pack("<IIII", int(T0), 0, length, length) + b"x" * 100
    s = analyse_export(data, "odd.pcap").summary
    assert s.partial and s.packets == 36 and s.reason is not None


def test_lying_pcapng_block_lengths(tmp_path: Path) -> None:
    from scapy.utils import PcapNgWriter

    path = tmp_path / "a.pcapng"
    writer = PcapNgWriter(str(path))
    for packet in traffic(T0, T0 + 10, 1, seed=5):
        writer.write(packet)
    writer.close()
    data = bytearray(path.read_bytes())
    data[-4:] = b"\x00\x00\x01\x00"  # the last block's trailing length disagrees
    s = analyse_export(bytes(data), "a.pcapng").summary
    assert s.partial and s.packets == 17 and "lengths differ" in (s.reason or "")


def test_random_corruption_never_crashes() -> None:
    import random

    rng = random.Random(11)
    base = bytearray(capture())
    for _ in range(200):
        data = bytearray(base)
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(24, len(data))] = rng.randrange(256)
        with contextlib.suppress(CaptureError):
            analyse_export(bytes(data[: rng.randrange(24, len(data) + 1)]), "fuzz.pcap")


def test_soft_time_budget_gives_a_partial_summary(tmp_path: Path) -> None:
    record = bytes(capture(1)[24:])
    path = tmp_path / "big.pcap"
    path.write_bytes(HEADER + record * 3000)
    analysis = analyse_export(path, "big.pcap", AnalysisOptions(max_seconds=0.0))
    assert analysis.summary.partial and "time budget" in (analysis.summary.reason or "")


def test_memory_stays_flat_on_a_large_capture(tmp_path: Path) -> None:
    path = tmp_path / "big.pcap"
    record = bytes(capture(1)[24:])
    with path.open("wb") as out:
        out.write(HEADER)
        for _ in range(40):
            out.write(record * 1000)  # 720,000 packets in all, ~45 MB
    tracemalloc.start()
    try:
        started = time.perf_counter()
        s = analyse_export(path, "big.pcap").summary
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert s.packets == 720_000 and not s.partial
    assert peak < 64 << 20, peak
    assert elapsed < 20


async def test_worker_analyses_in_a_process_and_enforces_the_budget(tmp_path: Path) -> None:
    analysis = await analyse_in_worker(capture(), "eth1.pcap", None, time_budget_s=60)
    assert analysis.verdict is Verdict.RECEIVING and analysis.summary.packets == 36
    with pytest.raises(CaptureError, match="not a pcap"):
        await analyse_in_worker(b"garbage", "x.bin", None, time_budget_s=60)
    with pytest.raises(CaptureError, match="longer than"):
        await analyse_in_worker(capture(), "eth1.pcap", None, time_budget_s=0.001)
