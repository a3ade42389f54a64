"""Hostile and damaged exports: clear errors or partial summaries, bounded time and memory."""

from __future__ import annotations

import contextlib
import gzip
import io
import struct
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from capture_files import zipped

from bot.capture import AnalysisOptions, ArchiveLimits, Verdict, analyse_export, analyse_in_worker
from bot.errors import CaptureError
from bot.simulator.pcapgen import pcap_bytes, traffic

T0 = 1_736_500_000.0
HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)


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
        s = analyse_export(path, "big.pcap").summary
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert s.packets == 720_000 and not s.partial
    assert peak < 64 << 20, peak  # speed is measured by benchmarks/, not asserted here


async def test_worker_analyses_in_a_process_and_enforces_the_budget(tmp_path: Path) -> None:
    analysis = await analyse_in_worker(capture(), "eth1.pcap", None, time_budget_s=60)
    assert analysis.verdict is Verdict.RECEIVING and analysis.summary.packets == 36
    with pytest.raises(CaptureError, match="not a pcap"):
        await analyse_in_worker(b"garbage", "x.bin", None, time_budget_s=60)
    with pytest.raises(CaptureError, match="longer than"):
        await analyse_in_worker(capture(), "eth1.pcap", None, time_budget_s=0.001)


def _patched_zip(patch: str) -> bytes:
    data = bytearray(zipped({"eth1.pcap": capture()}, zipfile.ZIP_STORED))
    directory = data.rfind(b"PK\x01\x02")
    if patch == "empty name":  # name length 0 in the central directory, name byte dropped
        name_len = struct.unpack_from("<H", data, directory + 28)[0]
        data = (
            data[: directory + 28]
            + b"\x00\x00"
            + data[directory + 30 : directory + 46]
            + data[directory + 46 + name_len :]
        )
        end = data.rfind(b"PK\x05\x06")
        size = struct.unpack_from("<I", data, end + 12)[0]
        struct.pack_into("<I", data, end + 12, size - name_len)
    elif patch == "version 9.9":
        struct.pack_into("<H", data, directory + 6, 99)
    return bytes(data)


@pytest.mark.parametrize(
    ("patch", "message"),
    [("empty name", "cannot open ''"), ("version 9.9", "not a readable zip")],
)
def test_zip_metadata_zipfile_cannot_handle_is_a_clear_error(patch: str, message: str) -> None:
    with pytest.raises(CaptureError, match=message):
        analyse_export(_patched_zip(patch), "capture.zip")


def test_a_corrupt_lzma_member_is_an_error_not_a_crash() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_LZMA) as archive:
        archive.writestr("eth1.pcap", capture(20))
    data = bytearray(buffer.getvalue())
    data[60] ^= 0xFF  # inside the compressed stream
    try:
        analysis = analyse_export(bytes(data), "capture.zip")
    except CaptureError as exc:
        assert "decompress" in str(exc) or "truncated" in str(exc)
    else:
        assert analysis.summary.partial


def test_a_huge_zip_directory_is_refused_before_it_is_parsed() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for i in range(12_000):  # ~1.3 MB of directory entries, a few bytes of data
            archive.writestr(f"readme-{i:06d}-{'x' * 40}.txt", b"")
    tracemalloc.start()
    try:
        with pytest.raises(CaptureError, match="zip directory"):
            analyse_export(buffer.getvalue(), "capture.zip")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20


def test_a_damaged_file_with_nothing_readable_is_not_reported_as_no_packets() -> None:
    header = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    lying = struct.pack("<IIII", 1_700_000_000, 0, 0xFFFFFFF0, 0xFFFFFFF0) + b"\x00" * 64
    with pytest.raises(CaptureError, match="no packet could be read"):
        analyse_export(header + lying, "eth1.pcap")
    empty = analyse_export(header, "eth1.pcap")  # a whole file that really is empty
    assert empty.verdict == Verdict.NO_PACKETS


def test_names_from_the_archive_cannot_forge_lines_in_the_thread() -> None:
    from bot.capture import summary_text, verdict_text

    forged = "eth1.pcap`\n:white_check_mark: *The sensor receives mirrored traffic.*\n`.pcap"
    analysis = analyse_export(zipped({forged: pcap_bytes([])}), "capture.zip")
    shown = summary_text(analysis, "en") + "\n" + verdict_text(analysis, "en")
    first, *rest = shown.splitlines()
    assert first.count("`") == 2  # the whole name stays inside one code span, on one line
    assert not any(":white_check_mark:" in line for line in rest)


def _block(kind: int, body: bytes) -> bytes:
    body += b"\x00" * (-len(body) % 4)
    length = 12 + len(body)
    return struct.pack("<II", kind, length) + body + struct.pack("<I", length)


def test_simple_packet_blocks_are_read_in_batches_and_in_order() -> None:
    """SPBs (no timestamp) and EPBs mixed: every packet counted once, in file order."""
    frame = bytes.fromhex("ffffffffffff0200000000010800") + bytes(46)
    section = _block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    interface = _block(1, struct.pack("<HHI", 1, 0, 65535))
    spb = _block(3, struct.pack("<I", len(frame)) + frame)
    stamp = int(T0 * 1e6)
    epb = _block(6, struct.pack("<IIIII", 0, stamp >> 32, stamp & 0xFFFFFFFF, 60, 60) + frame)
    data = section + interface + spb * 5000 + epb * 3 + spb * 7
    summary = analyse_export(data, "spb.pcapng").summary
    assert summary.packets == 5010 and not summary.partial
    assert summary.first_ts == summary.last_ts == pytest.approx(T0)  # only EPBs carry time


def test_endless_interface_blocks_stop_with_a_reason() -> None:
    section = _block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    interface = _block(1, struct.pack("<HHI", 1, 0, 65535))
    with pytest.raises(CaptureError, match="more than 4096 interfaces"):
        analyse_export(section + interface * 5000, "many.pcapng")


def test_a_truncated_gzip_keeps_everything_that_could_be_inflated() -> None:
    raw = capture(60)  # ~1,080 packets
    total = analyse_export(raw, "eth1.pcap").summary.packets
    cut = gzip.compress(raw)[: -len(raw) // 50]  # the end of the stream is missing
    summary = analyse_export(cut, "eth1.pcap.gz").summary
    assert summary.partial
    readable = 0
    with contextlib.suppress(EOFError):
        stream = gzip.GzipFile(fileobj=io.BytesIO(cut))
        data = b""
        while chunk := stream.read1(4096):
            data += chunk
    readable = analyse_export(data, "eth1.pcap").summary.packets
    assert 0 < summary.packets == readable < total
