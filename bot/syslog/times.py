"""Event times as DDI writes them, to epoch seconds (UTC). Pure and cached: this is the hot path.

Accepted shapes (the sensor's time is used only when it is unambiguous, i.e. carries a zone):
- epoch milliseconds (``rt=1593761104000``) or seconds;
- ``Mmm dd yyyy HH:mm:ss[.SSS] ZONE`` (``Mar 09 2015 17:05:21 GMT+08:00``), the format Trend Micro
  documents for CEF ``rt`` and for LEEF ``devTime`` with ``devTimeFormat=MMM dd yyyy HH:mm:ss z``;
- ISO 8601 with an offset (``2015-03-09T17:05:21.000+08:00``, ``...Z``).
"""

from __future__ import annotations

from datetime import UTC, datetime

_MONTHS = {
    b"Jan": 1, b"Feb": 2, b"Mar": 3, b"Apr": 4, b"May": 5, b"Jun": 6,
    b"Jul": 7, b"Aug": 8, b"Sep": 9, b"Oct": 10, b"Nov": 11, b"Dec": 12,
}  # fmt: skip
_CACHE_LIMIT = 4096
_cache: dict[bytes, float | None] = {}  # whole values: at high rates most repeat exactly
_day_cache: dict[bytes, float] = {}
_zone_cache: dict[bytes, int | None] = {}
_UTC_NAMES = (b"", b"Z", b"UTC", b"GMT", b"UT")
_MAX_CHARS = 64  # no real time is longer; longer values are neither parsed nor cached
# What ``datetime.fromtimestamp(..., UTC)`` can represent; anything outside is no real clock.
_EARLIEST = datetime(1, 1, 1, tzinfo=UTC).timestamp()
_LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()


def parse_event_time(raw: bytes) -> float | None:
    """Seconds since the epoch, or ``None`` when the value has no zone or is not a time."""
    if len(raw) > _MAX_CHARS:
        return None
    if raw in _cache:
        return _cache[raw]
    value = _parse(raw)
    if value is not None and not _EARLIEST <= value < _LATEST:
        value = None
    if len(_cache) >= _CACHE_LIMIT:
        _cache.clear()
    _cache[raw] = value
    return value


def _parse(raw: bytes) -> float | None:
    if not raw:
        return None
    if raw.isdigit():
        number = int(raw)
        if len(raw) >= 12:
            return number / 1000.0
        if len(raw) >= 9:
            return float(number)
        return None
    if raw[3:4] == b" ":
        return _parse_month_first(raw)
    if raw[4:5] == b"-":
        return parse_iso_time(raw)
    return None


def _parse_month_first(raw: bytes) -> float | None:
    # "Mar 09 2015 17:05:21 GMT+08:00" (fixed layout), tolerating "Mar  9" and ".SSS".
    if raw[6:7] != b" " or raw[11:12] != b" " or raw[14:15] != b":" or raw[17:18] != b":":
        parts = raw.split()
        if len(parts) < 4 or len(parts[1]) > 2 or len(parts[2]) != 4 or len(parts[3]) < 8:
            return None
        raw = b"%s %02d %s %s" % (parts[0], _int(parts[1]), parts[2], b" ".join(parts[3:]))
        if raw[6:7] != b" " or raw[11:12] != b" ":
            return None
    day = _day_cache.get(raw[:11])
    if day is None:
        month = _MONTHS.get(raw[:3])
        if month is None:
            return None
        try:
            day = datetime(int(raw[7:11]), month, int(raw[4:6]), tzinfo=UTC).timestamp()
        except ValueError:
            return None
        if len(_day_cache) >= _CACHE_LIMIT:
            _day_cache.clear()
        _day_cache[raw[:11]] = day
    clock = raw[12:20]
    if not (clock[:2].isdigit() and clock[3:5].isdigit() and clock[6:8].isdigit()):
        return None
    seconds = int(clock[:2]) * 3600 + int(clock[3:5]) * 60 + int(clock[6:8])
    rest = raw[20:]
    fraction = 0.0
    if rest[:1] == b".":
        digits = rest[1:].split(b" ", 1)[0]
        if not digits.isdigit():
            return None
        fraction = int(digits) / 10 ** len(digits)
        rest = rest[1 + len(digits) :]
    offset = _zone(rest.strip())
    if offset is None:
        return None
    return day + seconds + fraction - offset


def _int(value: bytes) -> int:
    return int(value) if value.isdigit() else -1


def _zone(text: bytes) -> int | None:
    """Offset in seconds east of UTC; ``None`` for no zone or one we cannot read."""
    if text in _zone_cache:
        return _zone_cache[text]
    offset = _read_zone(text)
    if len(_zone_cache) >= _CACHE_LIMIT:
        _zone_cache.clear()
    _zone_cache[text] = offset
    return offset


def _read_zone(text: bytes) -> int | None:
    if not text:
        return None  # no zone: ambiguous, the caller falls back to the receive time
    upper = text.upper()
    for name in (b"GMT", b"UTC", b"UT"):
        if upper.startswith(name):
            upper = upper[len(name) :]
            break
    if upper in _UTC_NAMES:
        return 0
    sign = {b"+": 1, b"-": -1}.get(upper[:1])
    digits = upper[1:].replace(b":", b"")
    if sign is None or not digits.isdigit() or len(digits) not in (2, 4):
        return None
    hours, minutes = int(digits[:2]), int(digits[2:] or b"0")
    if hours > 14 or minutes > 59:
        return None
    return sign * (hours * 3600 + minutes * 60)


def parse_iso_time(raw: bytes) -> float | None:
    """ISO 8601 / RFC 3339 with an offset; ``None`` without one."""
    try:
        text = raw.decode("ascii").replace("Z", "+00:00")
        if "." in text:
            head, _, frac = text.partition(".")
            n = len(frac) - len(frac.lstrip("0123456789"))
            text = f"{head}.{frac[:n][:6].ljust(6, '0')}{frac[n:]}"
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is None:
        return None
    seconds = value.timestamp()
    return seconds if _EARLIEST <= seconds < _LATEST else None
