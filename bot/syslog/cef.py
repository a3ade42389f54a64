"""CEF and TMEF detection events from Deep Discovery Inspector. Pure; the hot path.

``CEF:0|Trend Micro|Deep Discovery Inspector|ver|id|name|sev|k=v k=v``: in values ``\\=``,
``\\\\`` and ``\\n`` are escapes, in the header ``\\|`` and ``\\\\``. CEF carries the appliance
GUID in ``deviceExternalId`` and the threat type in ``cn3`` (``cn3Label=ThreatType``).

TMEF (Trend Micro Event Format) has the same ``CEF:0|...`` header but Trend's own keys: the GUID
in ``deviceGUID`` and the threat type labelled ``Deep Discovery_ThreatType`` (``cn4`` in DDI's
guide). It is told apart from CEF by ``deviceGUID``. Real sensors also write the label with a space
(``cn3Label=Threat Type``): labels are compared without case, spaces or underscores.
"""

from __future__ import annotations

import re

from bot.syslog.model import (
    BAD_VERSION,
    CUT_HEADER,
    NOT_DETECTION,
    OTHER_PRODUCT,
    DetectionEvent,
    EventFormat,
    Rejected,
    Sighting,
    is_ddi,
    is_detection,
    severity,
    split_header,
)
from bot.syslog.times import parse_event_time

_ESCAPE = re.compile(rb"\\(.)", re.DOTALL)
_UNESCAPED = {b"n": b"\n", b"r": b"\r", b"t": b"\t"}
_THREAT_LABELS = frozenset({b"threattype", b"deepdiscoverythreattype"})  # compared squeezed
# The keys the receiver needs, each with its raw value: a value runs to the space before the next
# "key=" (an "=" after a bare key; escaped "\=" never qualifies, unescaped ones in URLs are kept).
_CEF_WANTED = re.compile(
    rb" (d(?:vc(?:host)?|evice(?:ExternalId|GUID))|rt|cn\d\d?(?:Label)?)="
    rb"([^ ]*+(?: (?![\w.\[\]-]+=)[^ ]*+)*+)"
)


def _text(value: bytes | None) -> str | None:
    """A CEF value, unescaped and decoded (bad UTF-8 is replaced, not an error)."""
    if not value:
        return None
    return _unescaped(value).decode("utf-8", "replace")


def _unescaped(value: bytes) -> bytes:
    return _ESCAPE.sub(_unescape, value) if b"\\" in value else value


def _unescape(match: re.Match[bytes]) -> bytes:
    return _UNESCAPED.get(match.group(1), match.group(1))


def _fields(body: bytes) -> tuple[bytes, bytes, dict[bytes, bytes]] | Rejected:
    """Event id, severity and the wanted extension values of a DDI detection, or why not."""
    parts = split_header(body, 7)
    if parts is None:
        return CUT_HEADER
    version, vendor, product, _ver, event_id, _name, sev, ext = parts
    if version not in (b"CEF:0", b"CEF:1", b"CEF: 0"):
        return BAD_VERSION
    if not is_ddi(vendor, product):
        return OTHER_PRODUCT
    if not is_detection(event_id):
        return NOT_DETECTION
    return event_id, sev, dict(_CEF_WANTED.findall(b" " + ext.rstrip(b" ")))


def parse_cef(body: bytes) -> DetectionEvent | Rejected:
    fields = _fields(body)
    if isinstance(fields, Rejected):
        return fields
    event_id, sev, values = fields
    guid = values.get(b"deviceGUID")
    fmt: EventFormat = "tmef" if guid is not None else "cef"
    rt = values.get(b"rt")
    return DetectionEvent(
        fmt,
        event_id.decode("utf-8", "replace").strip(),
        int(sev) if sev.isdigit() and len(sev) <= 3 else severity(sev),
        _text(_cef_threat_type(values)),
        _text(values.get(b"dvc")),
        _text(values.get(b"dvchost")),
        _text(values.get(b"deviceExternalId") if guid is None else guid),
        None if rt is None else parse_event_time(rt),
    )


def sight_cef(body: bytes) -> Sighting | Rejected:
    """``parse_cef`` reduced to what counting needs (the receiver's hot path)."""
    fields = _fields(body)
    if isinstance(fields, Rejected):
        return fields
    values = fields[2]
    guid = values.get(b"deviceGUID")
    if guid is None:
        guid = values.get(b"deviceExternalId")
    dvchost, dvc, rt = values.get(b"dvchost"), values.get(b"dvc"), values.get(b"rt")
    return Sighting(
        _unescaped(guid) if guid else None,
        _unescaped(dvchost) if dvchost else None,
        _unescaped(dvc) if dvc else None,
        None if rt is None else parse_event_time(rt),
    )


def _cef_threat_type(values: dict[bytes, bytes]) -> bytes | None:
    if values.get(b"cn3Label") == b"ThreatType":
        return values.get(b"cn3")
    for key, label in values.items():
        if key.endswith(b"Label") and is_threat_label(label):
            return values.get(key[:-5])
    return None


def is_threat_label(label: bytes) -> bool:
    """``ThreatType``, ``Threat Type``, ``threat_type``, ``Deep Discovery_ThreatType``..."""
    return label.replace(b" ", b"").replace(b"_", b"").lower() in _THREAT_LABELS
