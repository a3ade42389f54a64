"""LEEF detection events from Deep Discovery Inspector. Pure; the hot path.

LEEF 1.0: ``LEEF:1.0|Trend Micro|Deep Discovery Inspector|ver|eventName|k=v<TAB>k=v`` with
``devTime`` (``devTimeFormat=MMM dd yyyy HH:mm:ss z``), ``sev``, ``dvc``, ``dvchost``,
``deviceGUID`` and ``threatType``. LEEF 2.0 adds a delimiter field after the event id: one
character, or ``xHH``/``0xHH``; left empty (or left out) it is a tab.

Relays escape control characters, the tab that separates LEEF fields above all: rsyslog writes it
``#011`` (or ``\\011``, by its ``$ControlCharacterEscapePrefix``), others ``\\t``, ``\\x09`` or
``<009>``. The delimiter field is read in any of these spellings, and when the delimiter itself
is nowhere in the extension, its escaped spellings are looked for instead. ``threatType`` is
found in any case.
"""

from __future__ import annotations

from bot.syslog.model import (
    BAD_DELIMITER,
    BAD_VERSION,
    CUT_HEADER,
    NOT_DETECTION,
    OTHER_PRODUCT,
    DetectionEvent,
    Rejected,
    Sighting,
    is_ddi,
    is_detection,
    plain,
    severity,
    split_header,
)
from bot.syslog.times import parse_event_time


def _fields(body: bytes) -> tuple[bytes, bytes, bytes] | Rejected:
    """Event id, extension (led by its separator) and separator of a DDI detection, or why not."""
    if body[:9] == b"LEEF:2.0|":
        parts = split_header(body, 6)
        if parts is None:
            parts = split_header(body, 5)
            if parts is None:
                return CUT_HEADER
            delimiter = b"\t"
        else:
            delimiter_field = parts.pop(5)
            if len(delimiter_field) > 1:  # " ^ " is "^"; a lone space is the delimiter
                delimiter_field = delimiter_field.strip()
            if b"=" in delimiter_field:  # no delimiter field after all: it was the extension
                parts[5] = delimiter_field + b"|" + parts[5]
                delimiter = b"\t"
            else:
                found = _leef_delimiter(delimiter_field)
                if found is None:
                    return BAD_DELIMITER
                delimiter = found
    elif body[:9] == b"LEEF:1.0|":
        parts = split_header(body, 5)
        if parts is None:
            return CUT_HEADER
        delimiter = b"\t"
    else:
        return CUT_HEADER if len(body) < 9 else BAD_VERSION
    _version, vendor, product, _ver, event_id, ext = parts
    if not is_ddi(vendor, product):
        return OTHER_PRODUCT
    if not is_detection(event_id):
        return NOT_DETECTION
    if delimiter not in ext:
        delimiter = _escaped_separator(ext, delimiter)
    return event_id, delimiter + ext, delimiter


def parse_leef(body: bytes) -> DetectionEvent | Rejected:
    fields = _fields(body)
    if isinstance(fields, Rejected):
        return fields
    event_id, ext, delimiter = fields
    threat = _leef_value(ext, delimiter, b"threatType=")
    if threat is None:
        threat = _leef_value_any_case(ext, delimiter, b"threattype=")
    return DetectionEvent(
        "leef",
        event_id.decode("utf-8", "replace").strip(),
        severity(_leef_value(ext, delimiter, b"sev=")),
        plain(threat),
        plain(_leef_value(ext, delimiter, b"dvc=")),
        plain(_leef_value(ext, delimiter, b"dvchost=")),
        plain(_leef_value(ext, delimiter, b"deviceGUID=")),
        _time(ext, delimiter),
    )


def sight_leef(body: bytes) -> Sighting | Rejected:
    """``parse_leef`` reduced to what counting needs (the receiver's hot path)."""
    fields = _fields(body)
    if isinstance(fields, Rejected):
        return fields
    _event_id, ext, delimiter = fields
    return Sighting(
        _leef_value(ext, delimiter, b"deviceGUID=") or None,
        _leef_value(ext, delimiter, b"dvchost=") or None,
        _leef_value(ext, delimiter, b"dvc=") or None,
        _time(ext, delimiter),
    )


def _time(ext: bytes, delimiter: bytes) -> float | None:
    dev_time = _leef_value(ext, delimiter, b"devTime=")
    return None if dev_time is None else parse_event_time(dev_time.strip())


def _leef_delimiter(field: bytes) -> bytes | None:
    """The delimiter byte a LEEF 2.0 delimiter field names, in any spelling read here."""
    if not field:
        return b"\t"
    if len(field) == 1:
        return field
    lower = field.lower()
    if lower == b"\\t":
        return b"\t"
    for prefix in (b"0x", b"\\x", b"x"):
        if lower.startswith(prefix):
            return _code(lower[len(prefix) :], 16, 2)
    if lower[:1] == b"<" and lower[-1:] == b">":  # "<009>"
        return _code(lower[1:-1], 10, 3)
    if lower[:1] in (b"#", b"\\"):  # "#011", "\011": octal, as rsyslog escapes
        return _code(lower[1:], 8, 3)
    return None


def _code(digits: bytes, base: int, most: int) -> bytes | None:
    if not 1 <= len(digits) <= most:
        return None
    try:
        value = int(digits, base)
    except ValueError:
        return None
    return bytes([value]) if value < 0x80 else None


def _escaped_separator(ext: bytes, delimiter: bytes) -> bytes:
    """The spelling of a control-character delimiter that a relay left in ``ext``."""
    code = delimiter[0]
    if code >= 0x20 and code != 0x7F:
        return delimiter
    spellings = [b"#%03o" % code, b"\\%03o" % code, b"<%03d>" % code, b"\\x%02x" % code]
    spellings.append(b"\\x%02X" % code)
    if code == 9:
        spellings.append(b"\\t")
    for spelling in spellings:
        if spelling in ext:
            return spelling
    return delimiter


def _leef_value_any_case(ext: bytes, delimiter: bytes, key: bytes) -> bytes | None:
    """``_leef_value`` for a lower-case ``key`` spelt in any case."""
    at = ext.lower().find(delimiter.lower() + key)
    if at < 0:
        return None
    start = at + len(delimiter) + len(key)
    end = ext.find(delimiter, start)
    return ext[start:end] if end >= 0 else ext[start:].rstrip(b"\r\n")


def _leef_value(ext: bytes, delimiter: bytes, key: bytes) -> bytes | None:
    at = ext.find(delimiter + key)
    if at < 0:
        return None
    start = at + len(delimiter) + len(key)
    end = ext.find(delimiter, start)
    return ext[start:end] if end >= 0 else ext[start:].rstrip(b"\r\n")
