"""Hostile detection exports never crash the reader: a seeded fuzz of ``parse_detection_export``.

The contract: for any file it returns a ``DetectionSummary`` whose counts add up, or raises a
``DetectionExportError`` (which the bot turns into a translated message), never anything else;
and ``render_summary`` shows every summary in English and Japanese without raising.

Cases start from the real-shaped exports in ``tests/data/detections``, mutate their text
(delimiters, quotes, absurd timestamps, NULs, BOMs, very long cells, shuffled lines...), encode
them in a random codec and then mutate the bytes (flips, cuts, invalid UTF-8, a BOM in the
middle). The inputs that once broke the reader are kept below as explicit regression cases.
"""

from __future__ import annotations

import csv
import random
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.detections import (
    BinaryDetectionExport,
    DetectionExportError,
    DetectionRowTooLarge,
    DetectionSummary,
    NoDetectionHeader,
    parse_detection_export,
    render_summary,
)
from bot.detections.columns import SYNONYMS
from bot.detections.timestamps import EARLIEST, LATEST
from handlers.style import SLACK

DATA = Path(__file__).resolve().parent.parent / "data" / "detections"
TEXT_SAMPLES = {
    "ddi_en_utf8.csv": "utf-8",
    "ddi_en_utf8_bom.csv": "utf-8-sig",
    "ddi_ja_cp932.csv": "cp932",
    "ddi_excel_utf16.txt": "utf-16",
    "ddi_quoted_extra_columns.csv": "utf-8",
    "ddi_header_only.csv": "utf-8",
    "ddi_title_bad_times.csv": "utf-8",
    "ddi_no_time_column.csv": "utf-8",
    "empty.csv": "utf-8",
}
BINARY_SAMPLES = ("screenshot.png",)
ENCODINGS = (
    "utf-8", "utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "cp932",
    "cp932", "latin-1", "utf-8-surrogates",
)  # fmt: skip
ZONES: tuple[tzinfo, ...] = (
    UTC,
    ZoneInfo("Asia/Tokyo"),
    ZoneInfo("America/New_York"),
    timezone(timedelta(hours=23, minutes=59)),
    timezone(-timedelta(hours=23, minutes=59)),
)
PERIODS = (
    (datetime(2026, 11, 24, tzinfo=UTC), datetime(2026, 11, 26, tzinfo=UTC)),
    (datetime(2026, 11, 24), datetime(2026, 11, 26)),  # naive: read in tz
    (EARLIEST, LATEST),
    (datetime(2026, 11, 25, 9, tzinfo=ZoneInfo("Asia/Tokyo")), datetime(2026, 11, 25, 10)),
)
HOSTILE_TIMES = [
    "0001-01-01 00:00:00+23:00", "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00",
    "9999-12-31 23:59:59.999999-23:59", "99999999999999999", "9999999999", "9999999999999",
    "0000000000", "0000-00-00 00:00:00", "2026-11-25 24:00:00", "2026-02-29 00:00:00",
    "2026-11-25 09:13:02+24:00", "2026-11-25 09:13:02 GMT+99", "2026-11-25 09:13:02 UTC-23:59",
    "2026-11-25T09:13:02.1234567890123Z", "12/31/9999 11:59:59 PM", "13/13/2026 13:13:13 PM",
    "01/01/0001 12:00:00 AM +23:00", "00/00/0000", "9999年12月31日 午後 11時59分59秒",
    "０００１年０１月０１日", "Dec 31 9999 23:59:59 GMT-23:59", "Jan 01 0001 00:00:00 GMT+23:59",
    "Foo 99 2026", "١٩٧٠-٠١-٠١ ٠٠:٠٠:٠٠", "㍻", "-0001-01-01", "+275760-09-13", "1e999", "nan",
    "", " ", "x" * 70, "9" * 5000, "2026-11-25T09:13:02+09:00[Asia/Tokyo]", "2026-W48-3",
    "2026-330", "2026-11-25 09:13:02\x00", "２０２６-１１-２５ ０９:１３:０２",
]  # fmt: skip
TOKENS = [
    '"', '""', '"\n', "\x00", "\ufeff", "\r", "\n", "\r\n", "\u2028", "\x1a", ",", "\t", ";", "|",
    "\\", "'", "`", "<!here>", "*_~", "\udc80", "\U0001f4a5", "２０２６", "ＳｅｖｅｒｉｔｙＩＰ",
    "Severity", "Detection Time", "重大度", "検出日時", "Total: 10",
]  # fmt: skip
_TIME = re.compile(
    r"\d{4}[-/]\d{2}[-/]\d{2}[ T][\d:]+(?:[+-]\d{2}:\d{2})?|\d{2}/\d{2}/\d{4} [\d:]+"
    r"|\d{4}年\d{1,2}月\d{1,2}日 [\d:]+|\d{4}/\d{2}/\d{2} \d{1,2}:\d{2}(?::\d{2})?"
)

# Files that broke the reader before it was fixed: a line above the header with a cell longer
# than csv's field size limit (131072 characters) let csv.Error escape from the header search
# (export._best_split) instead of a DetectionExportError.
REGRESSIONS: dict[str, bytes] = {
    "long_title_line": b"Query " + b"x" * 140_000 + b"\r\nDetection Time,Severity\r\n",
    "long_title_field_utf16": ("A" * 131_073 + "\n").encode("utf-16"),
    "long_line_of_tabs_and_commas": b",a" * 70_000 + b"\t" + b"b" * 140_000 + b"\n",
}


def _decoded_samples() -> list[str]:
    return [
        (DATA / name).read_bytes().decode(codec, "replace") for name, codec in TEXT_SAMPLES.items()
    ]


# --- mutations of the text ------------------------------------------------------------------


def _hostile_times(rng: random.Random, text: str) -> str:
    share = rng.choice((0.1, 0.5, 1.0))
    return _TIME.sub(lambda m: rng.choice(HOSTILE_TIMES) if rng.random() < share else m[0], text)


def _delimiters(rng: random.Random, text: str) -> str:
    return text.replace(rng.choice(",\t;"), rng.choice((",", "\t", ";", "|", ", ", "")))


def _insert(rng: random.Random, text: str) -> str:
    for _ in range(rng.choice((1, 1, 3, 20))):
        at = rng.randrange(len(text) + 1)
        text = text[:at] + rng.choice(TOKENS) + text[at:]
    return text


def _unbalanced_quote(rng: random.Random, text: str) -> str:
    cells = text.split(",")
    at = rng.randrange(len(cells))
    cells[at] = '"' + cells[at]
    return ",".join(cells)


def _long_cell(rng: random.Random, text: str) -> str:
    at = rng.randrange(len(text) + 1)
    filler = rng.choice(("x", ",", "\t", '"', "あ", " ", "x,", "\r"))
    return text[:at] + filler * rng.choice((300, 3000, 20_000, 140_000)) + text[at:]


def _lines(rng: random.Random, text: str) -> str:
    lines = text.splitlines(keepends=True)
    how = rng.randrange(5)
    if how == 0:
        rng.shuffle(lines)
    elif how == 1 and lines:
        del lines[rng.randrange(len(lines))]  # often the header
    elif how == 2 and lines:
        lines = lines[: rng.randrange(len(lines))] + [rng.choice(lines)] * rng.randint(2, 50)
    elif how == 3:
        lines = ["\r\n"] * rng.choice((5, 999, 1001)) + lines
    else:
        lines = [f"title {i}\n" for i in range(rng.choice((19, 20, 21)))] + lines
    return "".join(lines)


def _random_header(rng: random.Random, text: str) -> str:
    names = [rng.choice(names) for names in SYNONYMS.values() for _ in range(rng.randint(0, 2))]
    rng.shuffle(names)
    return rng.choice((",", "\t", ";")).join(names) + rng.choice(("\n", "\r\n", "\r")) + text


def _truncate(rng: random.Random, text: str) -> str:
    return text[: rng.randrange(len(text) + 1)]


TEXT_MUTATIONS: list[Callable[[random.Random, str], str]] = [
    _hostile_times, _hostile_times, _hostile_times, _delimiters, _insert, _insert,
    _unbalanced_quote, _long_cell, _lines, _random_header, _truncate,
]  # fmt: skip


# --- mutations of the bytes -----------------------------------------------------------------


def _encode(rng: random.Random, text: str) -> bytes:
    codec = rng.choice(ENCODINGS)
    if codec == "utf-8-surrogates":  # lone surrogates: invalid UTF-8 on purpose
        return text.encode("utf-8", "surrogatepass")
    return text.encode(codec, "replace")


def _flip(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return data
    b = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    return bytes(b)


def _insert_bytes(rng: random.Random, data: bytes) -> bytes:
    at = rng.randrange(len(data) + 1)
    piece = rng.choice(
        (b"\x00", b"\x00\x00", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xff\xfe\x00\x00",
         b"\x80", b"\xc3", b"\xe3\x81", b"\x82\xa0", b"\x81", b"\r", b"\x1a")
    )  # fmt: skip
    return data[:at] + piece * rng.choice((1, 1, 2, 100)) + data[at:]


def _bytes_cut(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def _prefix(rng: random.Random, data: bytes) -> bytes:
    boms = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff", b"\x00")
    return rng.choice(boms) + data


def _random_bytes(rng: random.Random, data: bytes) -> bytes:
    at = rng.randrange(len(data) + 1)
    return data[:at] + rng.randbytes(rng.randint(1, 64)) + data[at:]


BYTE_MUTATIONS: list[Callable[[random.Random, bytes], bytes]] = [
    _flip, _insert_bytes, _insert_bytes, _bytes_cut, _prefix, _random_bytes,
]  # fmt: skip


def hostile_export(rng: random.Random, samples: list[str]) -> bytes:
    if rng.random() < 0.03:
        data = (DATA / rng.choice(BINARY_SAMPLES)).read_bytes()
    else:
        text = rng.choice(samples)
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            text = rng.choice(TEXT_MUTATIONS)(rng, text)
        data = _encode(rng, text)
    for _ in range(rng.choice((0, 0, 1, 2))):
        data = rng.choice(BYTE_MUTATIONS)(rng, data)
    return data


# --- checks ---------------------------------------------------------------------------------


def _check_summary(summary: DetectionSummary, rng: random.Random) -> None:
    assert summary.total_rows == (
        summary.malformed_rows
        + summary.in_period
        + summary.outside_period
        + summary.unreadable_time
    )
    for counts, overflow in (
        (summary.by_severity, summary.severity_overflow),
        (summary.by_type, summary.type_overflow),
    ):
        assert sum(c for _, c in counts) + overflow in (0, summary.in_period)
    if summary.first_seen is not None:
        assert summary.last_seen is not None
        assert EARLIEST <= summary.first_seen <= summary.last_seen <= LATEST
    for lang in ("en", "ja"):
        text = render_summary(lang, summary, rng.choice(ZONES), style=SLACK)
        assert isinstance(text, str) and text


def read(path: Path, data: bytes, rng: random.Random) -> DetectionSummary | DetectionExportError:
    """Parse one file; anything but a summary or a DetectionExportError fails the test."""
    path.write_bytes(data)
    start, end = rng.choice(PERIODS)
    try:
        summary = parse_detection_export(path, start, end, tz=rng.choice(ZONES))
    except DetectionExportError as exc:
        assert isinstance(exc.key, str)
        return exc
    _check_summary(summary, rng)
    return summary


def test_mutated_exports_give_a_summary_or_a_detection_export_error(tmp_path: Path) -> None:
    rng = random.Random(20261125)
    samples = _decoded_samples()
    path = tmp_path / "export.csv"
    outcomes: dict[str, int] = {}
    for case in range(2500):
        data = hostile_export(rng, samples)
        try:
            result = read(path, data, rng)
        except Exception as exc:  # re-raised with the input, to keep it as a regression case
            (tmp_path / f"crash-{case}.bin").write_bytes(data)
            raise AssertionError(f"case {case}: {type(exc).__name__}: {data[:300]!r}") from exc
        kind = type(result).__name__
        outcomes[kind] = outcomes.get(kind, 0) + 1
    # the fuzz reaches both sides of the contract, and more than one kind of refusal
    assert outcomes["DetectionSummary"] > 1000, outcomes
    assert len(outcomes) >= 4, outcomes


def test_hostile_timestamps_in_every_supported_shape(tmp_path: Path) -> None:
    rng = random.Random(7)
    path = tmp_path / "times.csv"
    header = "Detection Time,Severity,Threat Type\n"
    for value in HOSTILE_TIMES:
        for codec in ("utf-8", "utf-16", "cp932"):
            rows = "".join(f'"{value}",High,Malware\n' for _ in range(3))
            result = read(path, (header + rows).encode(codec, "replace"), rng)
            if "\x00" in value and codec != "utf-16":
                assert isinstance(result, BinaryDetectionExport), (value, result)
                continue
            assert isinstance(result, DetectionSummary), (value, result)
            assert result.total_rows == 3


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_regressions(name: str, tmp_path: Path) -> None:
    result = read(tmp_path / name, REGRESSIONS[name], random.Random(0))
    assert isinstance(result, NoDetectionHeader | DetectionSummary), result


def test_a_csv_error_in_a_title_line_is_not_a_crash(tmp_path: Path) -> None:
    """The same csv.Error below the header-length cap, with a lower field limit set elsewhere."""
    data = b"Report " + b"x" * 5000 + b"\nDetection Time,Severity\n2026-11-25 00:00:00,High\n"
    previous = csv.field_size_limit(1000)  # process-wide: restored below
    try:
        result = read(tmp_path / "title.csv", data, random.Random(0))
    finally:
        csv.field_size_limit(previous)
    assert isinstance(result, DetectionSummary), result
    assert result.total_rows == 1


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("no newline at all", b"Detection Time,Severity," + b"x" * 1_100_000, DetectionRowTooLarge),
        (
            "a data cell past csv's field limit",
            b"Detection Time,Severity\n2026-11-25 00:00:00," + b"y" * 140_000 + b"\n",
            DetectionExportError,
        ),
        (
            "an unterminated quote swallowing the file",
            b'Detection Time,Severity\n"2026-11-25 00:00:00,High\n' + b"x,High\n" * 200_000,
            DetectionExportError,  # csv's field size limit (131072) comes before ours
        ),
        ("a million commas in a title line", b"," * 1_000_000 + b"\n", NoDetectionHeader),
        ("twenty very wide title lines", (b",a" * 400_000 + b"\n") * 20, NoDetectionHeader),
        ("1001 blank lines then a header", b"\r\n" * 1001 + b"Detection Time,Severity\n", None),
        (
            "NUL bytes after the examined head",
            b"Detection Time,Severity\n" + b"2026-11-25 00:00:00,High\n" * 12_000 + b"\0" * 9999,
            None,
        ),
    ],
)
def test_large_hostile_files_end_quickly(
    name: str, data: bytes, expected: type[DetectionExportError] | None, tmp_path: Path
) -> None:
    began = time.perf_counter()
    result = read(tmp_path / "big.csv", data, random.Random(1))
    if expected is None:
        assert isinstance(result, DetectionSummary | NoDetectionHeader), result
    else:
        assert isinstance(result, expected), result
    assert time.perf_counter() - began < 2, name  # wide title lines once took over 4 s
