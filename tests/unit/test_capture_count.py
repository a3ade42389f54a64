"""Streaming packet counts on scapy-built, real and hostile captures."""

from __future__ import annotations

import gzip
import os
import struct
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import pytest
from capture_files import zipped
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.utils import PcapNgWriter

from bot.capture import ArchiveLimits, summarise_export
from bot.errors import CaptureError
from bot.simulator.pcapgen import capture_zip, pcap_bytes, traffic

DATA = Path(__file__).parent.parent / "data"
T0 = 1_736_500_000.0


def packets(rounds: int = 2) -> list[Any]:
    return traffic(T0, T0 + 10, rounds, seed=7)  # 18 packets per round


def test_console_style_export_is_counted() -> None:
    built = packets()
    filename, content = capture_zip(pcap_bytes(built), T0)
    summary = summarise_export(content, filename)
    assert summary.files == ("eth1.pcap",)
    assert summary.packets == len(built) == 36
    assert summary.bytes == sum(len(p) for p in built)
    assert summary.first_ts == pytest.approx(float(built[0].time), abs=1e-6)
    assert summary.last_ts == pytest.approx(float(built[-1].time), abs=1e-6)
    assert summary.receiving_traffic and not summary.partial and summary.reason is None


def test_empty_capture_is_valid_and_silent() -> None:
    filename, content = capture_zip(pcap_bytes([]), T0)
    summary = summarise_export(content, filename)
    assert (summary.packets, summary.bytes, summary.first_ts, summary.last_ts) == (0, 0, None, None)
    assert not summary.receiving_traffic and not summary.partial


@pytest.mark.parametrize(("nano", "endianness"), [(True, "<"), (False, ">"), (True, ">")])
def test_nanosecond_and_big_endian_pcaps(nano: bool, endianness: str) -> None:
    built = packets(1)
    built[0].time = T0 + 0.123456789
    data = pcap_bytes(built, nano=nano, endianness=endianness)
    summary = summarise_export(data, "bare.pcap")
    assert summary.files == ("bare.pcap",) and summary.packets == 18
    assert summary.first_ts == pytest.approx(T0 + 0.123456789, abs=1e-6)


def test_gzipped_bare_pcap() -> None:
    summary = summarise_export(gzip.compress(pcap_bytes(packets())), "dump.pcap.gz")
    assert summary.files == ("dump.pcap",) and summary.packets == 36


def test_pcapng(tmp_path: Path) -> None:
    path = tmp_path / "capture.pcapng"
    writer = PcapNgWriter(str(path))
    for packet in packets():
        writer.write(packet)
    writer.close()
    summary = summarise_export(zipped({"eth1.pcapng": path.read_bytes()}), "capture.zip")
    assert summary.packets == 36 and summary.first_ts == pytest.approx(T0, abs=1)


def test_several_members_add_up_and_other_files_are_ignored() -> None:
    members = {
        "eth1.pcap": pcap_bytes(packets(1)),
        "eth2.pcap": pcap_bytes(packets(2)),
        "README.txt": b"exported by the console\n",
    }
    summary = summarise_export(zipped(members), "capture.zip")
    assert summary.files == ("eth1.pcap", "eth2.pcap") and summary.packets == 54


@pytest.mark.parametrize(
    ("name", "packets", "wire_bytes", "first", "last"),
    [  # values from tshark/capinfos (EXPECTED-tshark.tsv next to the tcpdump test files)
        ("RADIUS.pcap", 4, 687, 1217631137.872968, 1217631137.916850),
        ("bgp-role.pcapng", 9, 1278, 1668715732.541413, 1668715734.542871),
        ("unaligned-nfs-1.pcap", 1, 182, 1440444096.913318, 1440444096.913318),
    ],
)
def test_real_tcpdump_files_match_tshark(
    name: str, packets: int, wire_bytes: int, first: float, last: float
) -> None:
    summary = summarise_export((DATA / name).read_bytes(), name)
    assert (summary.packets, summary.bytes) == (packets, wire_bytes)
    assert summary.first_ts == pytest.approx(first, abs=1e-6)
    assert summary.last_ts == pytest.approx(last, abs=1e-6)
    assert not summary.partial


def test_truncated_pcap_counts_what_is_readable() -> None:
    data = pcap_bytes(packets())
    summary = summarise_export(data[:-10], "cut.pcap")
    assert summary.partial and summary.packets == 35
    assert summary.reason is not None and "cut.pcap" in summary.reason


def test_truncated_pcapng_is_partial(tmp_path: Path) -> None:
    path = tmp_path / "cut.pcapng"
    writer = PcapNgWriter(str(path))
    for packet in packets(1):
        writer.write(packet)
    writer.close()
    summary = summarise_export(path.read_bytes()[:-30], "cut.pcapng")
    assert summary.partial and summary.packets == 17


def test_absurd_record_length_is_partial() -> None:
    data = pcap_bytes(packets(1)) + struct.pack("<IIII", 1, 0, 0xFFFF_FFF0, 0xFFFF_FFF0)
    summary = summarise_export(data, "odd.pcap")
    assert summary.partial and summary.packets == 18


def test_corrupt_zip_member_is_partial() -> None:
    big = pcap_bytes(packets(400))
    assert len(big) > 4 * 64 * 1024  # several reads: only the last one meets the CRC error
    data = bytearray(zipped({"eth1.pcap": big}, zipfile.ZIP_STORED))
    data[200] ^= 0xFF  # inside packet data: only the CRC check at the end notices
    summary = summarise_export(bytes(data), "capture.zip")
    assert summary.partial and summary.reason is not None and "CRC" in summary.reason
    assert 0 < summary.packets < 400 * len(packets(1))


def test_corrupt_small_zip_member_is_a_clear_error() -> None:
    data = bytearray(zipped({"eth1.pcap": pcap_bytes(packets())}, zipfile.ZIP_STORED))
    data[200] ^= 0xFF
    with pytest.raises(CaptureError, match="CRC"):
        summarise_export(bytes(data), "capture.zip")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not a pcap"),
        (bytes(range(7, 256)) * 3, "not a pcap"),
        (b"<html><body>Session expired</body></html>", "not a pcap"),
        (b"\xd4\xc3\xb2\xa1\x02\x00", "header is truncated"),
        (b"\x0a\x0d\x0d\x0a\x1c\x00\x00\x00garbage!", "invalid pcapng"),
        (b"PK\x03\x04 not really a zip", "not a readable zip"),
    ],
)
def test_garbage_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(CaptureError, match=message):
        summarise_export(data, "upload.bin")


@pytest.mark.parametrize(
    "name", ["../evil.pcap", "/etc/evil.pcap", "a/../../evil.pcap", "C:x.pcap"]
)
def test_path_traversal_is_refused(name: str) -> None:
    with pytest.raises(CaptureError, match="unsafe path"):
        summarise_export(zipped({name: pcap_bytes([])}), "capture.zip")


def test_nested_archives_are_refused() -> None:
    inner = zipped({"eth1.pcap": pcap_bytes([])})
    with pytest.raises(CaptureError, match="nested"):
        summarise_export(zipped({"inner.zip": inner}), "capture.zip")
    with pytest.raises(CaptureError, match="nested"):  # disguised by its name
        summarise_export(zipped({"eth1.pcap": inner}), "capture.zip")
    with pytest.raises(CaptureError, match="nested"):
        summarise_export(zipped({"eth1.pcap": gzip.compress(pcap_bytes([]))}), "capture.zip")


def test_garbage_member_and_no_capture_are_refused() -> None:
    with pytest.raises(CaptureError, match="not a pcap"):
        summarise_export(zipped({"eth1.pcap": b"hello"}), "capture.zip")
    with pytest.raises(CaptureError, match="no pcap"):
        summarise_export(zipped({"notes.txt": b"hello"}), "capture.zip")


def test_too_many_members_are_refused() -> None:
    members = {f"eth{i}.pcap": pcap_bytes([]) for i in range(5)}
    with pytest.raises(CaptureError, match="at most 4"):
        summarise_export(zipped(members), "capture.zip", ArchiveLimits(max_members=4))


def test_total_size_limit_is_checked_on_real_bytes() -> None:
    data = zipped({"eth1.pcap": pcap_bytes(packets(20))})
    with pytest.raises(CaptureError, match="beyond 4096 bytes"):
        summarise_export(data, "capture.zip", ArchiveLimits(max_total_bytes=4096))
    gzipped = gzip.compress(pcap_bytes(packets(20)))
    with pytest.raises(CaptureError, match="beyond 4096 bytes"):
        summarise_export(gzipped, "x.pcap.gz", ArchiveLimits(max_total_bytes=4096))


def _peak_memory(count: int, record: bytes) -> int:
    header = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    body = b"".join(
        struct.pack("<IIII", int(T0) + i, 0, len(record), len(record)) + record
        for i in range(count)
    )
    data = zipped({"eth1.pcap": header + body}, zipfile.ZIP_STORED)
    tracemalloc.start()
    try:
        summary = summarise_export(data, "capture.zip")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert summary.packets == count and not summary.partial
    return peak


def test_memory_stays_flat_on_a_large_capture() -> None:
    record = bytes(Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / UDP() / os.urandom(1000))
    small = _peak_memory(8000, record)  # ~8 MB of packets
    large = _peak_memory(32000, record)  # ~33 MB of packets
    assert large < small * 1.5 + (2 << 20)  # reading memory does not grow with the file
