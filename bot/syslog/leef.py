"""LEEF detection events from Deep Discovery Inspector. Pure; the hot path.

LEEF 1.0: ``LEEF:1.0|Trend Micro|Deep Discovery Inspector|ver|eventName|k=v<TAB>k=v`` with
``devTime`` (``devTimeFormat=MMM dd yyyy HH:mm:ss z``), ``sev``, ``dvc``, ``dvchost``,
``deviceGUID`` and ``threatType``. LEEF 2.0 adds a delimiter field after the event id: one
character, or ``xHH``/``0xHH``; left empty (or left out) it is a tab.
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
    is_ddi,
    is_detection,
    plain,
    severity,
    split_header,
)
from bot.syslog.times import parse_event_time


def parse_leef(body: bytes) -> DetectionEvent | Rejected:
    if body[:9] == b"LEEF:2.0|":
        parts = split_header(body, 6)
        if parts is None:
            parts = split_header(body, 5)
            if parts is None:
                return CUT_HEADER
            delimiter = b"\t"
        else:
            delimiter_field = parts.pop(5)
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
    ext = delimiter + ext
    dev_time = _leef_value(ext, delimiter, b"devTime=")
    return DetectionEvent(
        "leef",
        event_id.decode("utf-8", "replace").strip(),
        severity(_leef_value(ext, delimiter, b"sev=")),
        plain(_leef_value(ext, delimiter, b"threatType=")),
        plain(_leef_value(ext, delimiter, b"dvc=")),
        plain(_leef_value(ext, delimiter, b"dvchost=")),
        plain(_leef_value(ext, delimiter, b"deviceGUID=")),
        None if dev_time is None else parse_event_time(dev_time.strip()),
    )


def _leef_delimiter(field: bytes) -> bytes | None:
    if not field:
        return b"\t"
    if len(field) == 1:
        return field
    hexa = field[2:] if field[:2].lower() == b"0x" else field[1:] if field[:1] in b"xX" else b""
    if 1 <= len(hexa) <= 2:
        try:
            return bytes([int(hexa, 16)])
        except ValueError:
            return None
    return None


def _leef_value(ext: bytes, delimiter: bytes, key: bytes) -> bytes | None:
    at = ext.find(delimiter + key)
    if at < 0:
        return None
    start = at + len(delimiter) + len(key)
    end = ext.find(delimiter, start)
    return ext[start:end] if end >= 0 else ext[start:].rstrip(b"\r\n")
