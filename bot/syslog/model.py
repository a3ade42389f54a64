"""What the event parsers return, and what CEF, TMEF and LEEF share. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, NamedTuple

VENDOR = b"Trend Micro"
PRODUCT = b"Deep Discovery Inspector"
# DDI signature ids: detection rules and 1xxxxx detection logs are below this; Virtual Analyzer
# (2xxxxx) and system/alert/update events (3xxxxx) are not detections.
FIRST_NON_DETECTION_ID = 200_000

EventFormat = Literal["cef", "tmef", "leef"]


class DetectionEvent(NamedTuple):
    """One detection (a named tuple: built for every message, it must be cheap to make)."""

    format: EventFormat
    event_id: str
    severity: int | None
    threat_type: str | None
    dvc: str | None
    dvchost: str | None
    device_guid: str | None  # deviceGUID (TMEF, LEEF) or deviceExternalId (CEF)
    timestamp: float | None  # event time, seconds since the epoch (UTC)

    @property
    def identifiers(self) -> tuple[str, ...]:
        """The device identifiers present, most specific first."""
        return tuple(v for v in (self.device_guid, self.dvchost, self.dvc) if v)

    @property
    def time(self) -> datetime | None:
        return None if self.timestamp is None else datetime.fromtimestamp(self.timestamp, UTC)


class Sighting(NamedTuple):
    """What counting needs of a detection, as raw bytes: the device identifiers (CEF escapes
    already undone) and the event time. ``events.sight`` makes these, without the rest."""

    device_guid: bytes | None
    dvchost: bytes | None
    dvc: bytes | None
    timestamp: float | None


@dataclass(frozen=True, slots=True)
class Rejected:
    kind: Literal["ignored", "bad"]
    reason: str


def _ignored(reason: str) -> Rejected:
    return Rejected("ignored", reason)


def _bad(reason: str) -> Rejected:
    return Rejected("bad", reason)


NOT_CEF_OR_LEEF = _ignored("not CEF or LEEF")
OTHER_PRODUCT = _ignored("not a Deep Discovery Inspector event")
NOT_DETECTION = _ignored("not a detection event")
BINARY = _bad("not text")
CUT_HEADER = _bad("truncated CEF/LEEF header")
BAD_VERSION = _bad("unknown CEF/LEEF version")
BAD_DELIMITER = _bad("bad LEEF 2.0 delimiter")


def split_header(body: bytes, fields: int) -> list[bytes] | None:
    """The first ``fields`` pipe-separated fields and the rest; ``\\|`` is an escaped pipe."""
    parts = body.split(b"|", fields)
    if len(parts) <= fields:
        return None
    if b"\\" in body[: len(body) - len(parts[-1])]:
        return _split_escaped(body, fields)
    return parts


def _split_escaped(body: bytes, fields: int) -> list[bytes] | None:
    out: list[bytes] = []
    current = bytearray()
    pos, size = 0, len(body)
    while pos < size and len(out) < fields:
        c = body[pos]
        if c == 0x5C and pos + 1 < size and body[pos + 1] in b"|\\":
            current.append(body[pos + 1])
            pos += 2
            continue
        if c == 0x7C:
            out.append(bytes(current))
            current.clear()
        else:
            current.append(c)
        pos += 1
    if len(out) < fields:
        return None
    out.append(body[pos:])
    return out


def is_ddi(vendor: bytes, product: bytes) -> bool:
    if vendor == VENDOR and product == PRODUCT:
        return True
    return vendor.strip().lower() == b"trend micro" and product.strip().lower() == PRODUCT.lower()


def is_detection(event_id: bytes) -> bool:
    if len(event_id) <= 5 and event_id.isdigit():  # the usual rule id: below 100000
        return True
    event_id = event_id.strip()
    if event_id.isdigit():
        number = event_id.lstrip(b"0") or b"0"  # int() refuses over 4300 digits
        return len(number) <= 6 and int(number) < FIRST_NON_DETECTION_ID
    return event_id.upper().endswith(b"_DETECTION")


def plain(value: bytes | None) -> str | None:
    return value.decode("utf-8", "replace") if value else None


def severity(value: bytes | None) -> int | None:
    if value is None:
        return None
    value = value.strip()
    return int(value) if value.isdigit() and len(value) <= 3 else None
