"""Writes the detection log export fixtures of this folder (run it from anywhere).

Each file imitates one way a DDI "Detection Log Query" export reaches us: straight from an
English or Japanese console, or re-saved by Excel. ``tests/unit/test_detection_export.py``
checks that these files are exactly what this script writes, so change both together.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _csv(rows: Iterable[Sequence[str]], delimiter: str = ",", quote_all: bool = False) -> str:
    out = io.StringIO()
    quoting = csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL
    writer = csv.writer(out, delimiter=delimiter, quoting=quoting, lineterminator="\r\n")
    writer.writerows(rows)
    return out.getvalue()


def english_console() -> bytes:
    """UTF-8 without BOM, LF; 30 detections every 2 h from 2026-11-23 20:13:02 (UTC)."""
    header = [
        "Detection Time", "Severity", "Threat Type", "Threat Name", "Protocol", "Source IP",
        "Source Host", "Destination IP", "Destination Host", "Direction", "Detected By",
        "Interested IP",
    ]  # fmt: skip
    severities = ["High", "Medium", "Medium", "Low", "Informational"]  # by i % 5
    types = [  # by i % 6
        "Malicious Behavior", "Malicious Behavior", "Suspicious Behavior",
        "Malicious Behavior", "Malicious URL", "Suspicious Behavior",
    ]  # fmt: skip
    rows = [header]
    first = datetime(2026, 11, 23, 20, 13, 2)
    for i in range(30):
        rows.append(
            [
                f"{first + timedelta(hours=2 * i):%Y-%m-%d %H:%M:%S}",
                severities[i % 5],
                types[i % 6],
                f"TROJ_GEN.R{i:03d}C0DKL23",
                "HTTP" if i % 2 else "DNS Response",
                f"10.0.{i % 4}.{10 + i}",
                f"pc-{i:02d}.corp.example",
                f"203.0.113.{i}",
                "ファイルサーバー" if i % 7 == 0 else "",  # UTF-8 beyond ASCII
                "Outbound" if i % 3 else "Inbound",
                "ddi-tokyo-01",
                f"10.0.{i % 4}.{10 + i}",
            ]
        )
    return _csv(rows).replace("\r\n", "\n").encode("utf-8")


def english_bom() -> bytes:
    """UTF-8 with BOM, CRLF, US dates; 12 detections hourly from 11/25/2026 00:30 (UTC)."""
    rows = [
        [
            "Detected", "Severity", "Threat Description", "Threat Type", "Source IP",
            "Destination IP", "Protocol",
        ]
    ]  # fmt: skip
    first = datetime(2026, 11, 25, 0, 30, 0)
    for i in range(12):
        rows.append(
            [
                f"{first + timedelta(hours=i):%m/%d/%Y %H:%M:%S}",
                "High" if i < 2 else "Medium" if i < 5 else "Low",
                "Possible SMB brute force",
                "Exploit" if i % 4 == 0 else "Malicious Behavior",
                f"192.0.2.{i}",
                "198.51.100.7",
                "SMB2",
            ]
        )
    return codecs.BOM_UTF8 + _csv(rows).encode("utf-8")


def japanese_cp932() -> bytes:
    """CP932, CRLF, Japanese console labels; 20 detections every 3 h from 2026/11/24 9:00 JST."""
    header = [
        "検出日時", "重大度", "脅威の種類", "脅威名", "プロトコル", "送信元IPアドレス",
        "送信先IPアドレス", "方向", "備考",
    ]  # fmt: skip
    severities = ["高", "中", "中", "低"]  # by i % 4
    types = ["不正な動作", "疑わしい動作", "不正なURL"]  # by i % 3
    rows = [header]
    first = datetime(2026, 11, 24, 9, 0, 0)
    for i in range(20):
        when = first + timedelta(hours=3 * i)
        stamp = (
            f"{when:%Y/%m/%d} {when.hour}:{when:%M:%S}"
            if i % 2 == 0
            else f"{when.year}年{when.month}月{when.day}日 {when.hour}:{when:%M:%S}"
        )
        rows.append(
            [
                stamp,
                severities[i % 4],
                types[i % 3],
                "ボットネットの通信 (C&C)",
                "HTTP",
                f"192.168.10.{i}",
                "198.51.100.20",
                "外部への通信" if i % 2 else "内部への通信",
                "ネットワーク管理者に連絡済み",
            ]
        )
    return _csv(rows).encode("cp932")


def excel_unicode_text() -> bytes:
    """UTF-16 LE with BOM, TAB, CRLF, as Excel's "Unicode text"; 15 detections hourly."""
    rows = [
        ["Detection Time", "Severity", "Threat Type", "Threat Name", "Source IP",
         "Destination IP"]
    ]  # fmt: skip
    first = datetime(2026, 11, 25, 9, 13)
    for i in range(15):
        when = first + timedelta(hours=i)
        rows.append(
            [
                f"{when:%Y/%m/%d} {when.hour}:{when:%M}",
                "High" if i < 3 else "Low",
                "Suspicious Behavior" if i % 5 == 0 else "Malicious Behavior",
                "Suspicious DNS query, possible DGA",
                f"10.1.1.{i}",
                "8.8.8.8",
            ]
        )
    return codecs.BOM_UTF16_LE + _csv(rows, delimiter="\t").encode("utf-16-le")


def quoted_fields() -> bytes:
    """Every field quoted; commas, quotes and newlines inside fields; unknown extra columns;
    rows longer and shorter than the header."""
    header = [
        "Log ID", "Detection Time", "Rule ID", "Severity", "Threat Type", "Notes",
        "Threat Name", "Source IP", "Attack Phase",
    ]  # fmt: skip
    rows: list[list[str]] = [header]
    records = [
        ("high", "Malicious Behavior", 'Callback to "known C&C", port 8080'),
        ("HIGH", "Malicious Behavior", "multi\nline\nnote"),
        (" High ", "Malicious Behavior", "a, b, c"),
        ("High", 'Suspicious "Behavior", Anomaly', ""),
        (" Medium", 'Suspicious "Behavior", Anomaly', 'said "hello"'),
        ("medium", 'Suspicious "Behavior", Anomaly', "x"),
        ("Medium", "Exploit\nCVE-2021-44228", "Log4Shell"),
        ("Low", "Malicious Behavior", "y"),
        ("low", "Malicious Behavior", "z"),
        ("Critical", "Malicious Behavior", "from a newer console?"),
    ]
    for i, (severity, kind, note) in enumerate(records):
        rows.append(
            [
                str(1000 + i),
                f"2026-11-25T{10 + i:02d}:00:00+09:00",
                f"{2000 + i}",
                severity,
                kind,
                note,
                f'HTTP_"{i}",beacon',
                f"10.9.9.{i}",
                "Command and Control",
            ]
        )
    rows[3] += ["extra", "cells", "beyond the header"]  # long row: fine
    rows.append(["1010", "2026-11-25T21:00:00+09:00", "2010", "Low", "Grayware"])  # short, fine
    rows.append(["1011", "2026-11-25T22:00:00+09:00", "2011", "Low"])  # no type cell: malformed
    return _csv(rows, quote_all=True).encode("utf-8")


def header_only() -> bytes:
    """A query that found nothing still exports its header."""
    return _csv([["Detection Time", "Severity", "Threat Type", "Threat Name", "Source IP"]]).encode(
        "utf-8"
    )


def title_and_bad_times() -> bytes:
    """Title lines above the header, semicolons (European Excel), unreadable times, a footer."""
    lines = [
        "Deep Discovery Inspector - Detection Log Query",
        "Period: 2026-11-24 00:00 - 2026-11-26 00:00",
        "",
    ]
    rows = [
        ["Detection Time", "Severity", "Threat Type", "Threat Name"],
        ["2026-11-24 01:00:00", "High", "Malicious Behavior", "A"],
        ["2026-11-24 02:00:00", "High", "Malicious Behavior", "B"],
        ["n/a", "High", "Malicious Behavior", "C"],
        ["2026-11-24 03:00:00", "Low", "Grayware", "D"],
        ["", "Low", "Grayware", "E"],
        ["2026-02-30 10:00:00", "Low", "Grayware", "F"],
        ["2026-11-25 04:00:00", "Medium", "Malicious URL", "G"],
        ["2026-11-25 05:00:00", "Medium", "Malicious URL", "H"],
        ["2026-11-25 06:00:00", "Medium", "Malicious URL", "I"],
        ["2026-11-27 07:00:00", "Medium", "Malicious URL", "J"],
        ["", "", "", ""],
        ["Total: 10"],
    ]
    return ("\r\n".join(lines) + "\r\n" + _csv(rows, delimiter=";")).encode("utf-8")


def no_time_column() -> bytes:
    """A cut-down export without any time column: the period cannot be checked."""
    rows = [["Severity", "Threat Type", "Threat Name"]]
    rows += [["High", "Malicious Behavior", f"N{i}"] for i in range(3)]
    rows += [["Low", "Grayware", f"M{i}"] for i in range(2)]
    return _csv(rows).encode("utf-8")


def png() -> bytes:
    """A screenshot sent by mistake (the PNG signature and a header chunk)."""
    return (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x02\x80\x00\x00\x01\xe0\x08\x02\x00\x00\x00"
        + bytes(range(256))
    )


FIXTURES = {
    "ddi_en_utf8.csv": english_console,
    "ddi_en_utf8_bom.csv": english_bom,
    "ddi_ja_cp932.csv": japanese_cp932,
    "ddi_excel_utf16.txt": excel_unicode_text,
    "ddi_quoted_extra_columns.csv": quoted_fields,
    "ddi_header_only.csv": header_only,
    "ddi_title_bad_times.csv": title_and_bad_times,
    "ddi_no_time_column.csv": no_time_column,
    "screenshot.png": png,
    "empty.csv": lambda: b"",
}


def main() -> None:
    for name, make in FIXTURES.items():
        (HERE / name).write_bytes(make())


if __name__ == "__main__":
    main()
