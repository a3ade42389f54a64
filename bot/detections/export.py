"""Count the detections in a DDI "Detection Log Query" export (runbook step 2), streaming.

The file can be hundreds of megabytes: it is decoded incrementally and read row by row with
the csv module; memory stays bounded by the longest row and the capped label counters.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from bot.detections.columns import ColumnMap, match_columns
from bot.detections.decoding import LineSource, open_text
from bot.detections.errors import DetectionExportError, EmptyDetectionExport, NoDetectionHeader
from bot.detections.labels import BoundedCounter, CachedLabels, clean_label, severity_label
from bot.detections.model import DetectionSummary, Role
from bot.detections.timestamps import parse_timestamp

DELIMITERS = (",", "\t", ";")
MAX_PREAMBLE_TEXT_LINES = 20  # title lines an export may carry above its header
MAX_PREAMBLE_LINES = 1000  # including blank ones
MAX_HEADER_CHARS = 64 * 1024  # a longer line is no header (cells are at most 200 characters)
_SHOWN_CHARS = 80


@dataclass(frozen=True)
class Header:
    columns: ColumnMap
    delimiter: str


def _best_split(line: str) -> Header | None:
    if len(line) > MAX_HEADER_CHARS:  # cheap: matching its every cell could take seconds
        return None
    best: tuple[int, int, Header] | None = None
    for delimiter in DELIMITERS:
        try:
            cells = next(csv.reader([line], delimiter=delimiter), [])
        except csv.Error:  # e.g. a cell past csv's field size limit: not a header line
            continue
        columns = match_columns(cells)
        if columns.is_header:
            score = (columns.recognised, len(cells))
            if best is None or score > best[:2]:
                best = (*score, Header(columns, delimiter))
    return best[2] if best else None


def find_header(source: LineSource) -> Header:
    """Read up to the header line: the first near the top naming a time or severity column."""
    first_text: str | None = None
    text_lines = 0
    at_end = False
    for _ in range(MAX_PREAMBLE_LINES):
        source.start_record()
        line = source.readline()
        if not line:
            at_end = True
            break
        text = line.strip().strip("\ufeff")
        if not text:
            continue
        first_text = first_text or text
        header = _best_split(line)
        if header is not None:
            return header
        text_lines += 1
        if text_lines >= MAX_PREAMBLE_TEXT_LINES:
            break
    if first_text is None and at_end:
        raise EmptyDetectionExport("empty file")
    raise NoDetectionHeader(_shown(first_text or ""))


def _shown(line: str) -> str:
    """A line from the file, fit to quote in a message: short, printable, no backticks."""
    short = line[:_SHOWN_CHARS] + ("…" if len(line) > _SHOWN_CHARS else "")
    return "".join("'" if ch == "`" else ch if ch.isprintable() else "\ufffd" for ch in short)


def _blank(row: list[str]) -> bool:
    return not any(row) or all(not cell or cell.isspace() for cell in row)


def _rows(source: LineSource, delimiter: str) -> Iterator[list[str]]:
    """Non-blank data rows; each record's size is bounded by ``source``."""
    reader = csv.reader(source, delimiter=delimiter)
    while True:
        source.start_record()
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise DetectionExportError(f"line {source.record_line}: {exc}") from None
        if not _blank(row):
            yield row


class _Tally:
    """The running counts of one export."""

    def __init__(self, columns: ColumnMap) -> None:
        self.time = columns.index(Role.TIME)
        self.severity = columns.index(Role.SEVERITY)
        self.type = columns.index(Role.TYPE)
        used = [i for i in (self.time, self.severity, self.type) if i is not None]
        self.needed = max(used) + 1
        self.severities = BoundedCounter()
        self.types = BoundedCounter()
        self.severity_label = CachedLabels(severity_label)
        self.type_label = CachedLabels(clean_label)
        self.total = self.in_period = self.outside = self.unreadable = self.malformed = 0
        self.first: datetime | None = None
        self.last: datetime | None = None

    def count(self, row: list[str]) -> None:
        if self.severity is not None:
            self.severities.add(self.severity_label(row[self.severity]))
        if self.type is not None:
            self.types.add(self.type_label(row[self.type]))
        self.in_period += 1

    def seen(self, when: datetime) -> None:
        if self.first is None or when < self.first:
            self.first = when
        if self.last is None or when > self.last:
            self.last = when


def _aware(value: datetime, tz: tzinfo) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=tz)


def parse_detection_export(
    path: Path, start: datetime, end: datetime, *, tz: tzinfo = UTC
) -> DetectionSummary:
    """Summarise the export at ``path`` for the period ``[start, end)``.

    Times without a zone, in the file or in ``start``/``end``, are read in ``tz``. Raises a
    ``DetectionExportError`` subclass when the file is empty, binary, has no recognisable header
    or holds a row too large to be real.
    """
    start, end = _aware(start, tz), _aware(end, tz)
    stream, encoding = open_text(path)
    with stream:
        source = LineSource(stream)
        header = find_header(source)
        tally = _Tally(header.columns)
        last_text: str | None = None
        last_time: datetime | None = None
        for row in _rows(source, header.delimiter):
            tally.total += 1
            if len(row) < tally.needed:
                tally.malformed += 1
                continue
            if tally.time is None:
                tally.count(row)
                continue
            text = row[tally.time]
            if text != last_text:  # exports come sorted: the same second repeats
                last_text, last_time = text, parse_timestamp(text, tz)
            if last_time is None:
                tally.unreadable += 1
                continue
            tally.seen(last_time)
            if start <= last_time < end:
                tally.count(row)
            else:
                tally.outside += 1
    return DetectionSummary(
        start=start,
        end=end,
        total_rows=tally.total,
        in_period=tally.in_period,
        outside_period=tally.outside,
        unreadable_time=tally.unreadable,
        malformed_rows=tally.malformed,
        period_checked=tally.time is not None,
        by_severity=tally.severities.most_common(),
        by_type=tally.types.most_common(),
        severity_overflow=tally.severities.overflow,
        type_overflow=tally.types.overflow,
        first_seen=tally.first,
        last_seen=tally.last,
        encoding=encoding,
        delimiter=header.delimiter,
        columns=tuple((role, name) for role, _, name in header.columns.positions),
    )
