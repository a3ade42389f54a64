"""Reading DDI detection log exports (runbook step 2) and rendering what they hold."""

from __future__ import annotations

import codecs
import importlib.util
import random
import tracemalloc
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType
from zoneinfo import ZoneInfo

import pytest

from bot.detections import (
    BinaryDetectionExport,
    DetectionExportError,
    DetectionRowTooLarge,
    DetectionSummary,
    EmptyDetectionExport,
    NoDetectionHeader,
    Role,
    parse_detection_export,
    render_summary,
)
from bot.detections.columns import match_columns
from bot.detections.decoding import HEAD_BYTES, choose_encoding
from bot.detections.labels import MAX_LABELS, severity_label
from bot.detections.timestamps import parse_timestamp
from bot.errors import DdiBotError
from bot.presenter import error_message
from handlers.style import SLACK

DATA = Path(__file__).resolve().parent.parent / "data" / "detections"
START = datetime(2026, 11, 24, tzinfo=UTC)
END = datetime(2026, 11, 26, tzinfo=UTC)
TOKYO = ZoneInfo("Asia/Tokyo")


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("detection_fixtures", DATA / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse(name: str, **kwargs: object) -> DetectionSummary:
    return parse_detection_export(DATA / name, START, END, **kwargs)  # type: ignore[arg-type]


def _assert_partition(summary: DetectionSummary) -> None:
    assert summary.total_rows == (
        summary.malformed_rows
        + summary.in_period
        + summary.outside_period
        + summary.unreadable_time
    )
    assert sum(c for _, c in summary.by_severity) + summary.severity_overflow in (
        0,
        summary.in_period,
    )


def test_fixtures_are_what_the_generator_writes() -> None:
    fixtures = _generator().FIXTURES
    for name, make in fixtures.items():
        assert (DATA / name).read_bytes() == make(), f"regenerate {name}: generate.py changed"


# --- real-shaped exports -------------------------------------------------------------------


def test_english_console_utf8_without_bom() -> None:
    summary = parse("ddi_en_utf8.csv")
    assert summary.encoding == "utf-8"
    assert summary.delimiter == ","
    assert summary.total_rows == 30
    assert summary.in_period == 24
    assert summary.outside_period == 6
    assert summary.unreadable_time == 0
    assert summary.malformed_rows == 0
    assert summary.period_checked
    assert summary.by_severity == (("Medium", 9), ("High", 5), ("Informational", 5), ("Low", 5))
    assert summary.by_type == (
        ("Malicious Behavior", 12),
        ("Suspicious Behavior", 8),
        ("Malicious URL", 4),
    )
    assert summary.first_seen == datetime(2026, 11, 23, 20, 13, 2, tzinfo=UTC)
    assert summary.last_seen == datetime(2026, 11, 26, 6, 13, 2, tzinfo=UTC)
    assert summary.column(Role.TIME) == "Detection Time"
    assert summary.column(Role.SOURCE) == "Source IP"  # preferred over "Source Host"
    assert summary.column(Role.DESTINATION) == "Destination IP"
    assert dict(summary.columns).keys() == set(Role)  # "Detected By", "Interested IP" ignored
    _assert_partition(summary)


def test_utf8_with_bom_and_us_dates() -> None:
    summary = parse("ddi_en_utf8_bom.csv")
    assert summary.encoding == "utf-8-sig"
    assert summary.column(Role.TIME) == "Detected"  # the BOM is not part of the name
    assert summary.column(Role.NAME) == "Threat Description"
    assert (summary.total_rows, summary.in_period, summary.outside_period) == (12, 12, 0)
    assert summary.by_severity == (("Low", 7), ("Medium", 3), ("High", 2))
    assert summary.by_type == (("Malicious Behavior", 9), ("Exploit", 3))
    assert summary.first_seen == datetime(2026, 11, 25, 0, 30, tzinfo=UTC)
    assert summary.last_seen == datetime(2026, 11, 25, 11, 30, tzinfo=UTC)


def test_japanese_console_cp932_in_tokyo_time() -> None:
    start, end = datetime(2026, 11, 24), datetime(2026, 11, 26)  # naive: read in tz
    summary = parse_detection_export(DATA / "ddi_ja_cp932.csv", start, end, tz=TOKYO)
    assert summary.encoding == "cp932"
    assert summary.start == datetime(2026, 11, 24, tzinfo=TOKYO)
    assert summary.column(Role.SEVERITY) == "重大度"
    assert summary.column(Role.TYPE) == "脅威の種類"
    assert summary.column(Role.SOURCE) == "送信元IPアドレス"
    assert summary.total_rows == 20
    assert summary.in_period == 13  # the row at exactly 2026-11-26 00:00 is outside
    assert summary.outside_period == 7
    assert summary.by_severity == (("Medium", 6), ("High", 4), ("Low", 3))
    assert summary.by_type == (("不正な動作", 5), ("不正なURL", 4), ("疑わしい動作", 4))
    assert summary.first_seen == datetime(2026, 11, 24, 9, tzinfo=TOKYO)
    assert summary.last_seen == datetime(2026, 11, 26, 18, tzinfo=TOKYO)
    _assert_partition(summary)


def test_excel_unicode_text_is_utf16_with_tabs() -> None:
    summary = parse("ddi_excel_utf16.txt")
    assert summary.encoding == "utf-16"
    assert summary.delimiter == "\t"
    assert (summary.total_rows, summary.in_period) == (15, 15)
    assert summary.by_severity == (("Low", 12), ("High", 3))
    assert summary.by_type == (("Malicious Behavior", 12), ("Suspicious Behavior", 3))
    assert summary.last_seen == datetime(2026, 11, 25, 23, 13, tzinfo=UTC)


def test_quoted_fields_extra_columns_and_short_rows() -> None:
    summary = parse("ddi_quoted_extra_columns.csv")
    assert summary.total_rows == 12
    assert summary.malformed_rows == 1  # the row without a type cell
    assert summary.in_period == 11  # including the short row that has every needed cell
    assert summary.by_severity == (("High", 4), ("Low", 3), ("Medium", 3), ("Critical", 1))
    assert summary.by_type == (
        ("Malicious Behavior", 6),
        ('Suspicious "Behavior", Anomaly', 3),
        ("Exploit CVE-2021-44228", 1),  # a newline inside a label becomes a space
        ("Grayware", 1),
    )
    assert summary.column(Role.NAME) == "Threat Name"
    assert summary.first_seen == datetime(2026, 11, 25, 1, tzinfo=UTC)
    _assert_partition(summary)


def test_header_only_export_has_no_detections() -> None:
    summary = parse("ddi_header_only.csv")
    assert (summary.total_rows, summary.in_period, summary.outside_period) == (0, 0, 0)
    assert summary.by_severity == summary.by_type == ()
    assert summary.first_seen is None and summary.last_seen is None
    assert summary.period_checked


def test_title_lines_semicolons_unreadable_times_and_footer() -> None:
    summary = parse("ddi_title_bad_times.csv")
    assert summary.delimiter == ";"
    assert summary.total_rows == 11  # the blank ";;;" row is not a row
    assert summary.in_period == 6
    assert summary.outside_period == 1
    assert summary.unreadable_time == 3  # "n/a", blank, 30 February
    assert summary.malformed_rows == 1  # "Total: 10"
    assert summary.by_severity == (("Medium", 3), ("High", 2), ("Low", 1))
    assert summary.by_type == (("Malicious URL", 3), ("Malicious Behavior", 2), ("Grayware", 1))
    assert summary.last_seen == datetime(2026, 11, 27, 7, tzinfo=UTC)
    _assert_partition(summary)


def test_without_a_time_column_every_row_counts_and_the_period_is_unchecked() -> None:
    summary = parse("ddi_no_time_column.csv")
    assert not summary.period_checked
    assert (summary.total_rows, summary.in_period, summary.outside_period) == (5, 5, 0)
    assert summary.by_severity == (("High", 3), ("Low", 2))
    assert summary.first_seen is None


# --- files that are not exports --------------------------------------------------------------


def test_screenshot_is_refused_as_binary() -> None:
    with pytest.raises(BinaryDetectionExport) as caught:
        parse("screenshot.png")
    assert isinstance(caught.value, DdiBotError)
    assert "not text" in error_message("en", caught.value, SLACK)


def test_empty_file_is_refused() -> None:
    with pytest.raises(EmptyDetectionExport):
        parse("empty.csv")


@pytest.mark.parametrize("content", [codecs.BOM_UTF8, b"\r\n\r\n   \n", codecs.BOM_UTF16_LE])
def test_only_a_bom_or_blank_lines_is_empty(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "blank.csv"
    path.write_bytes(content)
    with pytest.raises(EmptyDetectionExport):
        parse_detection_export(path, START, END)


def test_random_bytes_are_refused(tmp_path: Path) -> None:
    rng = random.Random(7)
    path = tmp_path / "noise.bin"
    path.write_bytes(bytes(rng.randrange(256) for _ in range(10_000)))
    with pytest.raises(BinaryDetectionExport):
        parse_detection_export(path, START, END)
    path.write_bytes(bytes(rng.randrange(0x80, 0x100) for _ in range(10_000)))  # no NUL
    with pytest.raises(NoDetectionHeader):
        parse_detection_export(path, START, END)


def test_text_without_a_detection_header_names_its_first_line(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("<!channel> please look at this\nno detections here\n", encoding="utf-8")
    with pytest.raises(NoDetectionHeader) as caught:
        parse_detection_export(path, START, END)
    assert caught.value.detail == "<!channel> please look at this"
    text = error_message("ja", caught.value, SLACK)
    assert "&lt;!channel&gt;" in text and "<!channel>" not in text
    assert "検出ログのエクスポートではない" in text


def test_the_header_must_be_near_the_top(tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    title = "".join(f"title `{i}`\x1b\n" for i in range(20))
    path.write_text(title + "Detection Time,Severity\n2026-11-25 00:00:00,High\n", "utf-8")
    with pytest.raises(NoDetectionHeader) as caught:
        parse_detection_export(path, START, END)
    assert caught.value.detail == "title '0'\ufffd"
    path.write_text(title[-100:] + "\n\n" + path.read_text("utf-8")[len(title) :], "utf-8")
    assert parse_detection_export(path, START, END).in_period == 1


def test_a_row_larger_than_any_real_row_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write("Detection Time,Severity,Threat Type\n")
        out.write("2026-11-25 00:00:00,High,Malicious Behavior\n")
        out.write("x" * 3_000_000)  # no newline at all
    with pytest.raises(DetectionRowTooLarge) as caught:
        parse_detection_export(path, START, END)
    assert caught.value.detail == "3"


def test_a_giant_quoted_field_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "field.csv"
    path.write_text(
        'Detection Time,Severity,Threat Type\n2026-11-25 00:00:00,High,"' + "y\n" * 100_000 + '"\n',
        encoding="utf-8",
    )
    with pytest.raises(DetectionExportError) as caught:
        parse_detection_export(path, START, END)
    assert caught.value.detail.startswith("line 2")


# --- streaming and hostile sizes -------------------------------------------------------------


def test_utf8_detection_tolerates_a_character_cut_at_the_chunk_end() -> None:
    text = "検出日時,重大度\n".encode()
    cut = text[:-2]  # the newline goes, and "度" loses its last byte
    assert choose_encoding(cut, complete=False) == "utf-8"
    assert choose_encoding(cut, complete=True) == "cp932"  # at the real end it is not UTF-8
    assert choose_encoding("検出日時,重大度".encode("cp932"), complete=True) == "cp932"


def test_large_utf8_file_with_japanese_after_the_head_streams(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    rows = 60_000
    first = datetime(2026, 11, 24, tzinfo=UTC)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("検出日時,重大度,脅威の種類,脅威名\r\n")
        for i in range(rows):
            when = first + timedelta(seconds=i)
            out.write(f"{when:%Y-%m-%d %H:%M:%S},高,不正な動作,不正プログラム{i % 7}\r\n")
    assert path.stat().st_size > 4 * HEAD_BYTES
    tracemalloc.start()
    try:
        summary = parse_detection_export(path, START, END)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert summary.encoding == "utf-8"
    assert summary.in_period == rows
    assert summary.by_severity == (("High", rows),)
    assert peak < 2 * 1024 * 1024, f"peak {peak} bytes for a {path.stat().st_size} byte file"


def test_distinct_labels_are_capped(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    extra = 25
    with path.open("w", encoding="utf-8") as out:
        out.write("Detection Time,Severity,Threat Type\n")
        for i in range(MAX_LABELS + extra):
            out.write(f"2026-11-25 00:00:00,sev-{i},type-{i}\n")
    summary = parse_detection_export(path, START, END)
    assert summary.in_period == MAX_LABELS + extra
    assert len(summary.by_severity) == len(summary.by_type) == MAX_LABELS
    assert summary.severity_overflow == summary.type_overflow == extra
    _assert_partition(summary)


# --- the pieces ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-25 09:13:02", datetime(2026, 11, 25, 9, 13, 2, tzinfo=TOKYO)),
        ("2026/11/25 9:13:02", datetime(2026, 11, 25, 9, 13, 2, tzinfo=TOKYO)),
        ("2026/11/25 9:13", datetime(2026, 11, 25, 9, 13, tzinfo=TOKYO)),
        ("11/25/2026 09:13:02", datetime(2026, 11, 25, 9, 13, 2, tzinfo=TOKYO)),
        ("11/25/2026 9:13:02 PM", datetime(2026, 11, 25, 21, 13, 2, tzinfo=TOKYO)),
        ("25/11/2026 09:13", datetime(2026, 11, 25, 9, 13, tzinfo=TOKYO)),
        ("2026-11-25T00:13:02Z", datetime(2026, 11, 25, 0, 13, 2, tzinfo=UTC)),
        (
            "2026-11-25T09:13:02.250+09:00",
            datetime(2026, 11, 25, 9, 13, 2, 250_000, tzinfo=timezone(timedelta(hours=9))),
        ),
        ("2026年11月25日 9:13:02", datetime(2026, 11, 25, 9, 13, 2, tzinfo=TOKYO)),
        ("２０２６年１１月２５日（水） 午後9時13分", datetime(2026, 11, 25, 21, 13, tzinfo=TOKYO)),
        ("Mar 22 2018 08:23:23 GMT+00:00", datetime(2018, 3, 22, 8, 23, 23, tzinfo=UTC)),
        ("1764062000", datetime(2025, 11, 25, 9, 13, 20, tzinfo=UTC)),
        ("n/a", None),
        ("", None),
        ("2026-02-30 10:00:00", None),
        ("13/13/2026 10:00", None),
        ("9" * 100, None),
    ],
)
def test_timestamps(text: str, expected: datetime | None) -> None:
    assert parse_timestamp(text, TOKYO) == expected


def test_header_synonyms_in_both_languages() -> None:
    english = match_columns([" detection time ", "SEVERITY", "threat_type", "Foo", "Src IP"])
    assert english.is_header
    assert english.index(Role.TIME) == 0 and english.index(Role.SOURCE) == 4
    japanese = match_columns(["日時", "検出の重大度", "検出の種類", "送信先ＩＰ"])
    assert japanese.is_header and japanese.index(Role.DESTINATION) == 3
    assert match_columns(["Threat Type", "Type", "Severity"]).index(Role.TYPE) == 0
    assert not match_columns(["Severity"]).is_header  # one known column is not enough
    assert not match_columns(["Name", "Amount", "Comment"]).is_header  # no time or severity


@pytest.mark.parametrize(
    ("raw", "label"),
    [
        ("High", "High"), (" high ", "High"), ("高", "High"), ("中", "Medium"),
        ("Medium", "Medium"), ("低", "Low"), ("情報", "Informational"), ("Info", "Informational"),
        ("Critical", "Critical"), ("8", "8"), ("", ""),
    ],
)  # fmt: skip
def test_severity_labels_are_normalised(raw: str, label: str) -> None:
    assert severity_label(raw) == label


# --- rendering -----------------------------------------------------------------------------


def _summary(**changes: object) -> DetectionSummary:
    base = DetectionSummary(
        start=START,
        end=END,
        total_rows=40,
        in_period=30,
        outside_period=6,
        unreadable_time=3,
        malformed_rows=1,
        period_checked=True,
        by_severity=(("High", 20), ("<!channel>", 6), ("", 4)),
        by_type=tuple((f"Type {i} & <b>", 13 - i) for i in range(13)),
        severity_overflow=0,
        type_overflow=2,
        first_seen=datetime(2026, 11, 23, 20, 13, 2, tzinfo=UTC),
        last_seen=datetime(2026, 11, 26, 6, 13, 2, tzinfo=UTC),
        encoding="cp932",
        delimiter=",",
        columns=((Role.TIME, "検出日時"),),
    )
    fields = {**base.__dict__, **changes}
    return DetectionSummary(**fields)  # type: ignore[arg-type]


def test_render_english() -> None:
    text = render_summary("en", _summary(), style=SLACK)
    assert text.startswith(
        ":mag: *30 detections* from 2026-11-24 00:00 UTC to 2026-11-26 00:00 UTC."
    )
    assert "• High: 20" in text
    assert "• &lt;!channel&gt;: 6" in text and "<!channel>" not in text
    assert "• (blank): 4" in text
    assert "• Type 0 &amp; &lt;b&gt;: 13" in text
    assert "Type 10" not in text
    assert "…and 3 more (6 detections)" in text  # types 10, 11, 12: 3 + 2 + 1
    assert "…and 2 detections with further labels" in text
    assert "6 rows fall outside the period" in text
    assert "3 rows have a detection time that could not be read" in text
    assert "1 rows lack a column" in text
    assert "from 2026-11-23 20:13:02 UTC to 2026-11-26 06:13:02 UTC" in text
    assert "_Read 40 rows as Shift_JIS (CP932), comma separated._" in text
    assert len(text) < 3000  # one Slack section


def test_render_japanese_in_tokyo_time() -> None:
    text = render_summary("ja", _summary(), tz=TOKYO, style=SLACK)
    assert text.startswith(
        ":mag: 2026-11-24 09:00 UTC+09:00 から 2026-11-26 09:00 UTC+09:00 まで"
        "の検出は *30 件* です。"
    )
    assert "*重大度別*" in text and "• 高: 20" in text and "• (空欄): 4" in text
    assert "• &lt;!channel&gt;: 6" in text and "<!channel>" not in text
    assert "…ほか 3 種類 (6 件)" in text
    assert "6 行は期間外" in text
    assert "Shift_JIS (CP932)・カンマ区切り" in text


def test_render_no_detections_and_unchecked_period() -> None:
    none = _summary(
        in_period=0, by_severity=(), by_type=(), type_overflow=0, outside_period=36, total_rows=40
    )
    assert render_summary("en", none, style=SLACK).startswith(":zero: *No detections* from")
    assert "*By severity*" not in render_summary("en", none, style=SLACK)
    assert render_summary("ja", none, style=SLACK).startswith(":zero: 2026-11-24 00:00 UTC から")
    unchecked = _summary(period_checked=False, first_seen=None, last_seen=None, delimiter="\t")
    text = render_summary("en", unchecked, style=SLACK)
    assert text.startswith(":warning: *30 detections.* The export has no detection time column")
    assert "tab separated" in text
    assert "run from" not in text


def test_render_of_a_real_export_in_both_languages() -> None:
    start, end = datetime(2026, 11, 24), datetime(2026, 11, 26)
    summary = parse_detection_export(DATA / "ddi_ja_cp932.csv", start, end, tz=TOKYO)
    ja = render_summary("ja", summary, tz=TOKYO, style=SLACK)
    assert "• 中: 6" in ja and "• 不正な動作: 5" in ja
    en = render_summary("en", summary, tz=TOKYO, style=SLACK)
    assert "• Medium: 6" in en and "• 不正な動作: 5" in en


@pytest.mark.parametrize("text", ["0001-01-01 00:00:00+23:00", "9999-12-31 23:59:59-23:00"])
def test_times_no_detection_can_have_are_unreadable_not_a_crash(text: str) -> None:
    assert parse_timestamp(text) is None
