"""Read the detection time cell of an export, in whichever format the console or Excel wrote it.

Accepted: ``2026-11-25 09:13:02`` and ``2026/11/25 09:13:02`` (optionally with ``T``, fractions
and a ``Z``/``+09:00``/``GMT+09:00`` zone), ``11/25/2026 09:13:02`` (US order, ``AM``/``PM``
allowed; a first number above 12 means day first), ``2026年11月25日 9:13:02`` (also
``(水)`` weekdays, ``午前``/``午後`` and ``9時13分02秒``), ``Mar 22 2018 08:23:23 GMT+00:00`` (the
form Trend Micro uses in CEF ``rt``), Unix seconds or milliseconds, and any other ISO 8601 form.
A time without a zone is read in ``tz``.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta, timezone, tzinfo

_ZONE = r"(Z|[+-]\d{2}(?::?\d{2})?|(?:GMT|UTC)(?:[+-]\d{1,2}(?::?\d{2})?)?)"
_CLOCK = r"(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?"
_YMD = re.compile(
    rf"(\d{{4}})[-/.](\d{{1,2}})[-/.](\d{{1,2}})(?:(?:T|\s+){_CLOCK})?\s*{_ZONE}?", re.IGNORECASE
)
_NUMERIC_DMY = re.compile(
    rf"(\d{{1,2}})[/.-](\d{{1,2}})[/.-](\d{{4}})"
    rf"(?:\s+{_CLOCK}(?:\s*([AP])\.?M\.?)?)?\s*{_ZONE}?",
    re.IGNORECASE,
)
_JAPANESE = re.compile(
    r"(\d{4})年(\d{1,2})月(\d{1,2})日\s*(?:\(\w\)\s*)?(?:(午前|午後)\s*)?"
    r"(?:(\d{1,2})[:時](\d{1,2})(?:[:分](\d{1,2})秒?|分)?)?"
)
_MONTH_NAME = re.compile(
    rf"([a-z]{{3}})[a-z]*\.?\s+(\d{{1,2}}),?\s+(\d{{4}})(?:,?\s+{_CLOCK})?\s*{_ZONE}?",
    re.IGNORECASE,
)
_EPOCH = re.compile(r"\d{10}(\d{3})?")
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_MAX_CHARS = 64  # no real timestamp is longer


def _zone(text: str | None, default: tzinfo) -> tzinfo:
    if not text:
        return default
    upper = text.upper()
    if upper in ("Z", "GMT", "UTC"):
        return UTC
    offset = upper.removeprefix("GMT").removeprefix("UTC")
    sign = -1 if offset.startswith("-") else 1
    digits = offset[1:].replace(":", "")
    if len(digits) <= 2:
        hours, minutes = int(digits), 0
    else:
        hours, minutes = int(digits[:-2]), int(digits[-2:])
    if hours > 23 or minutes > 59:
        raise ValueError(text)
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _micro(fraction: str | None) -> int:
    return int((fraction or "0")[:6].ljust(6, "0"))


def _build(
    y: str, mo: str, d: str, h: str | None, mi: str | None, s: str | None, zone: tzinfo
) -> datetime:
    return datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), tzinfo=zone)


def _ymd(m: re.Match[str], tz: tzinfo) -> datetime:
    y, mo, d, h, mi, s, frac, zone = m.groups()
    value = _build(y, mo, d, h, mi, s, _zone(zone, tz))
    return value.replace(microsecond=_micro(frac))


def _numeric_dmy(m: re.Match[str], tz: tzinfo) -> datetime:
    first, second, y, h, mi, s, frac, half, zone = m.groups()
    month, day = (second, first) if int(first) > 12 else (first, second)
    hour = int(h or 0)
    if half:
        if not 1 <= hour <= 12:
            raise ValueError(m.group(0))
        hour = hour % 12 + (12 if half.upper() == "P" else 0)
    value = _build(y, month, day, str(hour), mi, s, _zone(zone, tz))
    return value.replace(microsecond=_micro(frac))


def _japanese(m: re.Match[str], tz: tzinfo) -> datetime:
    y, mo, d, half, h, mi, s = m.groups()
    hour = int(h or 0)
    if half == "午後" and hour < 12:
        hour += 12
    return _build(y, mo, d, str(hour), mi, s, tz)


def _month_name(m: re.Match[str], tz: tzinfo) -> datetime:
    name, d, y, h, mi, s, frac, zone = m.groups()
    month = _MONTHS.get(name.lower())
    if month is None:
        raise ValueError(name)
    value = _build(y, str(month), d, h, mi, s, _zone(zone, tz))
    return value.replace(microsecond=_micro(frac))


EARLIEST = datetime(1970, 1, 2, tzinfo=UTC)  # times outside these cannot be real detections,
LATEST = datetime(2200, 1, 1, tzinfo=UTC)  # and a year-1 time cannot even be shown in a zone


def parse_timestamp(text: str, tz: tzinfo = UTC) -> datetime | None:
    """The moment ``text`` names, timezone-aware; None when it is not a time we can read."""
    value = _parse(text, tz)
    if value is None:
        return None
    try:
        return value if EARLIEST <= value <= LATEST else None
    except (OverflowError, ValueError):
        return None


def _parse(text: str, tz: tzinfo) -> datetime | None:
    text = text.strip()
    if not text or len(text) > _MAX_CHARS:
        return None
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    try:
        for pattern, build in (
            (_YMD, _ymd),
            (_NUMERIC_DMY, _numeric_dmy),
            (_JAPANESE, _japanese),
            (_MONTH_NAME, _month_name),
        ):
            m = pattern.fullmatch(text)
            if m:
                return build(m, tz)
        m = _EPOCH.fullmatch(text)
        if m:
            return datetime.fromtimestamp(int(text) / (1000 if m.group(1) else 1), UTC)
        value = datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=tz)
