"""Every tcpdump test capture is analysed without crash or hang, and agrees with tshark.

Each difference from ``EXPECTED-tshark.tsv`` is listed and explained in
``tests/data/capture-mismatches.tsv``; the test fails on any unlisted difference and on any
listed one that no longer happens.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bot.capture import analyse_export
from bot.capture.model import TrafficSummary
from bot.errors import CaptureError

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "pcaps" / "tcpdump"
MISMATCHES = Path(__file__).resolve().parents[1] / "data" / "capture-mismatches.tsv"
pytestmark = pytest.mark.skipif(
    not (CORPUS / "EXPECTED-tshark.tsv").exists(),
    reason=f"tcpdump capture corpus not found at {CORPUS} (the shared data directory)",
)


def _ts(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.6f}"


def _differences(name: str, row: list[str], s: TrafficSummary) -> list[tuple[str, ...]]:
    if row[1] == "UNREADABLE":
        links = ",".join(s.link_types)
        return [(name, "unreadable", f"{s.packets} packets, {links}", "UNREADABLE")]
    out: list[tuple[str, ...]] = []
    for field, ours, theirs in (("packets", s.packets, row[2]), ("bytes", s.bytes, row[3])):
        if str(ours) != theirs:
            out.append((name, field, str(ours), theirs))
    for field, value, theirs in (("first", s.first_ts, row[4]), ("last", s.last_ts, row[5])):
        try:
            same = value is not None and abs(value - float(theirs)) <= 2e-6
        except ValueError:  # "n/a", or tshark printing a negative fraction for hostile values
            same = _ts(value) == theirs
        same = same or _ts(value) == theirs
        if not same:
            out.append((name, field, _ts(value), theirs))
    ours_l = [s.network["ipv4"], s.network["ipv6"], s.network["arp"]]
    ours_l += [s.transport["tcp"], s.transport["udp"]]
    if ours_l != [int(x) for x in row[6:11]]:
        out.append((name, "l3l4", " ".join(map(str, ours_l)), " ".join(row[6:11])))
    return out


def test_every_capture_is_analysed_and_matches_tshark_or_is_explained() -> None:
    with (CORPUS / "EXPECTED-tshark.tsv").open() as handle:
        expected = {row[0]: row for row in csv.reader(handle, delimiter="\t")}
    expected.pop("file")
    files = sorted(p for p in CORPUS.iterdir() if p.suffix in (".pcap", ".pcapng"))
    assert len(files) == len(expected) == 509
    found: set[tuple[str, ...]] = set()
    for path in files:  # a hang fails the run through pytest-timeout, not a timed assertion
        try:
            summary = analyse_export(path.read_bytes(), path.name).summary
        except CaptureError as exc:
            found.add((path.name, "error", str(exc), expected[path.name][1]))
            continue
        found.update(_differences(path.name, expected[path.name], summary))
    with MISMATCHES.open() as handle:
        rows = list(csv.reader(handle, delimiter="\t"))
    assert rows[0] == ["file", "field", "ours", "tshark", "explanation"]
    assert all(len(row) == 5 and row[4].strip() for row in rows[1:]), "explain every mismatch"
    listed = {tuple(row[:4]) for row in rows[1:]}
    assert sorted(found - listed) == [], "new differences from tshark: explain or fix them"
    assert sorted(listed - found) == [], "listed differences no longer happen: remove them"
    ethernet = [n for n, row in expected.items() if row[1] == "ether"]
    explained = {m[0] for m in listed if m[1] == "l3l4"} & set(ethernet)
    assert len(explained) <= 12  # L3/L4 counts match tshark on all but these Ethernet files
