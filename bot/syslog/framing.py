"""Syslog transport framing (RFC 6587) and header parsing (RFC 3164, RFC 5424). No I/O.

``StreamDeframer`` turns a TCP byte stream into messages, deciding the framing of each message
from its first byte: a digit means octet counting (``LEN SP MSG``), anything else a line ended by
LF. Memory stays bounded by ``max_message``: an oversize message is skipped (and counted as bad)
without being buffered, and the stream stays in step.

``parse_syslog`` splits one message into header host, header time, application and body. A body
without any syslog header (a bare ``CEF:0|...`` line) is accepted as it is. Relays re-frame what
they forward; the shapes read here besides RFC 3164 and RFC 5424 proper:
- RFC 3164 with an RFC 3339 time (rsyslog's ``RSYSLOG_ForwardFormat``:
  ``<PRI>2024-03-09T17:05:21.123+09:00 host tag: msg``);
- RFC 5424 whose APP-NAME is the event's own prefix (rsyslog and syslog-ng take ``CEF:`` of
  ``CEF:0|...`` as the tag, so the message is ``0|...`` under APP-NAME ``CEF``): the application is
  returned so that ``events.parse_event`` can put the prefix back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from bot.syslog.times import parse_iso_time

DEFAULT_MAX_MESSAGE = 64 * 1024
_MAX_LENGTH_DIGITS = 10  # longer "lengths" are garbage, not octet counts

_MONTHS = {
    b"Jan": 1, b"Feb": 2, b"Mar": 3, b"Apr": 4, b"May": 5, b"Jun": 6,
    b"Jul": 7, b"Aug": 8, b"Sep": 9, b"Oct": 10, b"Nov": 11, b"Dec": 12,
}  # fmt: skip
_BOM = b"\xef\xbb\xbf"


class StreamDeframer:
    """Incremental de-framer for one TCP connection; ``bad`` counts rejected frames."""

    __slots__ = ("_buf", "_max", "_skip", "_skip_line", "bad")

    def __init__(self, max_message: int = DEFAULT_MAX_MESSAGE) -> None:
        self._buf = b""
        self._max = max_message
        self._skip = 0  # bytes of an oversize octet-counted message still to discard
        self._skip_line = False  # discarding an oversize line up to its LF
        self.bad = 0

    def feed(self, data: bytes) -> list[bytes]:
        """Append ``data`` and return every message it completes (never empty ones)."""
        if self._skip:
            if len(data) <= self._skip:
                self._skip -= len(data)
                return []
            data, self._skip = data[self._skip :], 0
        if self._skip_line:
            end = data.find(b"\n")
            if end < 0:
                return []
            data, self._skip_line = data[end + 1 :], False
        buf = self._buf + data if self._buf else data
        out: list[bytes] = []
        pos, size, limit = 0, len(buf), self._max
        while pos < size:
            first = buf[pos]
            if first in b"\r\n\x00 \t":  # stray separators between frames
                pos += 1
                continue
            if 0x31 <= first <= 0x39:  # octet counting starts with a non-zero digit
                space = buf.find(b" ", pos, pos + _MAX_LENGTH_DIGITS + 1)
                if space < 0:
                    if size - pos <= _MAX_LENGTH_DIGITS:
                        break  # the length may still be arriving
                elif buf[pos:space].isdigit():
                    length = int(buf[pos:space])
                    start = space + 1
                    if length > limit:
                        self.bad += 1
                        available = size - start
                        if available >= length:
                            pos = start + length
                            continue
                        self._skip, self._buf = length - available, b""
                        return out
                    if size - start < length:
                        break
                    frame = buf[start : start + length]
                    pos = start + length
                    out.append(frame)
                    continue
                # digits not followed by a space: not a length, read it as a line
            end = buf.find(b"\n", pos)
            if end < 0:
                if size - pos > limit:
                    self.bad += 1
                    self._skip_line, self._buf = True, b""
                    return out
                break
            if end - pos > limit:
                self.bad += 1
            else:
                out.append(buf[pos:end])
            pos = end + 1
        self._buf = buf[pos:] if pos < size else b""
        return out

    def close(self) -> list[bytes]:
        """End of stream: a final line without LF is still a message; a cut frame is bad."""
        rest, self._buf = self._buf.strip(b"\r\n\x00 \t"), b""
        if self._skip or self._skip_line:
            self._skip, self._skip_line = 0, False
            return []
        if not rest:
            return []
        if 0x31 <= rest[0] <= 0x39:
            space = rest.find(b" ")
            if 0 < space <= _MAX_LENGTH_DIGITS and rest[:space].isdigit():
                self.bad += 1  # octet-counted frame cut short
                return []
        return [rest]

    @property
    def buffered(self) -> int:
        return len(self._buf)


@dataclass(frozen=True, slots=True)
class SyslogMessage:
    """One message: ``rfc`` is 5424, 3164 or 0 (no syslog header); ``app`` the RFC 5424 APP-NAME
    (empty for 3164, whose tag stays in the body); ``body`` is the MSG part."""

    rfc: int
    raw_host: bytes
    raw_time: bytes
    app: bytes
    body: bytes

    @property
    def host(self) -> str | None:
        return self.raw_host.decode("utf-8", "replace") if self.raw_host else None

    @property
    def timestamp(self) -> datetime | None:
        """The header time when it is unambiguous: RFC 3339 with an offset (RFC 5424, or 3164 as
        rsyslog forwards it); the classic 3164 time has neither zone nor year."""
        return parse_rfc5424_time(self.raw_time) if has_offset_time(self.raw_time) else None

    def local_timestamp(self, year: int) -> datetime | None:
        """The RFC 3164 ``Mmm dd hh:mm:ss`` time in ``year``, naive (the zone is not sent)."""
        if self.rfc != 3164 or has_offset_time(self.raw_time):
            return None
        return parse_rfc3164_time(self.raw_time, year)


# (rfc, raw host, raw time, app, body)
Split = tuple[int, bytes, bytes, bytes, bytes]


def parse_syslog(data: bytes) -> SyslogMessage | None:
    """Split a message; ``None`` when it starts like syslog (``<PRI>``) but the header is cut."""
    parts = split_syslog(data)
    return None if parts is None else SyslogMessage(*parts)


def split_syslog(data: bytes) -> Split | None:
    """``parse_syslog`` as a plain tuple, for the hot path."""
    if data[:1] != b"<":
        return 0, b"", b"", b"", _clean(data)
    close = data.find(b">", 1, 5)
    if close < 2 or not data[1:close].isdigit() or int(data[1:close]) > 191:
        return None
    rest = data[close + 1 :]
    if rest[:2] == b"1 ":
        return _rfc5424(rest[2:])
    return _rfc3164(rest)


def _clean(body: bytes) -> bytes:
    if body[:3] == _BOM:
        body = body[3:]
    return body.rstrip(b"\r\n\x00")


def has_offset_time(raw: bytes) -> bool:
    """Whether a header time is RFC 3339 (``2024-03-09T...``) rather than ``Mmm dd hh:mm:ss``."""
    return raw[4:5] == b"-" and raw[:4].isdigit()


def _rfc3164(rest: bytes) -> Split | None:
    # "Mmm dd hh:mm:ss host msg"; the day may be space-padded ("Mar  9").
    if len(rest) >= 16 and rest[:3] in _MONTHS and rest[15:16] == b" " and rest[9:10] == b":":
        stamp, rest = rest[:15], rest[16:]
    elif rest[10:11] == b"T" and has_offset_time(rest) and (end := rest.find(b" ", 19, 40)) > 0:
        stamp, rest = rest[:end], rest[end + 1 :]  # "2024-03-09T17:05:21.123+09:00 host msg"
    else:
        # No recognisable timestamp: some senders put the body straight after <PRI>.
        return 3164, b"", b"", b"", _clean(rest)
    if rest[:4] == b"CEF:" or rest[:5] == b"LEEF:":
        return 3164, b"", stamp, b"", _clean(rest)
    space = rest.find(b" ")
    if space <= 0:
        return None if not rest.strip() else (3164, b"", stamp, b"", _clean(rest))
    return 3164, rest[:space], stamp, b"", _clean(rest[space + 1 :])


def _rfc5424(rest: bytes) -> Split | None:
    parts = rest.split(b" ", 5)
    if len(parts) < 6:
        if len(parts) == 5 and parts[4][:1] in (b"-", b"["):
            parts.append(b"")  # a header with structured data and no MSG
        else:
            return None
    stamp, host, app, _procid, _msgid, tail = parts
    if tail[:1] == b"-":
        body = tail[2:] if tail[1:2] == b" " else tail[1:]
    elif tail[:1] == b"[":
        end = _sd_end(tail)
        if end < 0:
            return None
        body = tail[end + 1 :] if tail[end : end + 1] == b" " else tail[end:]
    else:
        return None
    return (
        5424,
        b"" if host == b"-" else host,
        b"" if stamp == b"-" else stamp,
        b"" if app == b"-" else app,
        _clean(body),
    )


def _sd_end(tail: bytes) -> int:
    """Index just past the last ``[...]`` element; ``\\]``, ``\\"`` and ``\\\\`` are escapes."""
    pos, size = 0, len(tail)
    while pos < size and tail[pos] == 0x5B:  # "["
        in_quotes = False
        pos += 1
        while pos < size:
            c = tail[pos]
            if c == 0x5C:  # backslash escapes the next byte
                pos += 2
                continue
            if c == 0x22:
                in_quotes = not in_quotes
            elif c == 0x5D and not in_quotes:
                break
            pos += 1
        if pos >= size:
            return -1
        pos += 1
    return pos


def parse_rfc5424_time(raw: bytes) -> datetime | None:
    seconds = parse_iso_time(raw) if raw else None
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def parse_rfc3164_time(raw: bytes, year: int) -> datetime | None:
    month = _MONTHS.get(raw[:3])
    if month is None or len(raw) != 15:
        return None
    try:
        day = int(raw[4:6])
        hour, minute, second = int(raw[7:9]), int(raw[10:12]), int(raw[13:15])
        return datetime(year, month, day, hour, minute, second)  # no zone is sent
    except ValueError:
        return None
