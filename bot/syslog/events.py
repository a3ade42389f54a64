"""DDI detection events in CEF, TMEF and LEEF, parsed from a syslog body. Pure; the hot path.

Only what the receiver needs is extracted, by targeted scanning rather than by splitting every
key: the device identifiers (``dvc``, ``dvchost``, ``deviceExternalId``/``deviceGUID``), the
event time (CEF/TMEF ``rt``, LEEF ``devTime``), the severity and the threat type. See ``cef``
and ``leef`` for the formats. ``parse_event`` reads all of these; ``sight`` only the identifiers
and the time, raw, which is all counting needs: the receiver calls it for every message.

Relays re-frame what they forward, and the event's own prefix is what they damage: rsyslog and
syslog-ng take ``CEF:`` of ``CEF:0|...`` as the syslog tag, then write ``CEF: 0|...`` (a space
after the tag) or, in RFC 5424, APP-NAME ``CEF`` with the message ``0|...``; LEEF likewise. Both
are put back together here (``app`` is the RFC 5424 APP-NAME), as is an event after a second header
or a host name (``relay ddi01 CEF:0|...``).

A Trend Micro DDI line that is not a detection (system, alert, update events) is *ignored*, as is
any other product's or non-CEF/LEEF text; a line that cannot be read is *bad*.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from bot.syslog.cef import parse_cef, sight_cef
from bot.syslog.leef import parse_leef, sight_leef
from bot.syslog.model import (
    BINARY,
    NOT_CEF_OR_LEEF,
    DetectionEvent,
    EventFormat,
    Rejected,
    Sighting,
)

__all__ = ["DetectionEvent", "EventFormat", "Rejected", "Sighting", "parse_event", "sight"]

T = TypeVar("T", DetectionEvent, Sighting)
Reader = Callable[[bytes], T | Rejected]

_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_VERSION_FIRST = re.compile(rb"\d{1,2}(?:\.\d{1,2})?\|")  # "0|", "1.0|", "2.0|"


# A relay's APP-NAME or tag that was an event's prefix, upper case and without its colon.
_PREFIX_APPS = {b"CEF": b"CEF:", b"LEEF": b"LEEF:"}


def parse_event(body: bytes, app: bytes = b"") -> DetectionEvent | Rejected:
    """The detection in ``body``, or why there is none (``Rejected``: ignored or bad).

    ``app`` is the RFC 5424 APP-NAME the message came with (empty when there was none)."""
    return _read(body, app, parse_cef, parse_leef)


def sight(body: bytes, app: bytes = b"") -> Sighting | Rejected:
    """``parse_event`` reduced to the identifiers and time, raw: what counting needs."""
    return _read(body, app, sight_cef, sight_leef)


def _read(body: bytes, app: bytes, cef: Reader[T], leef: Reader[T]) -> T | Rejected:
    if body[:4] == b"CEF:":
        return cef(body if body[4:5] != b" " else b"CEF:" + body[4:].lstrip(b" "))
    if body[:5] == b"LEEF:":
        return leef(body if body[5:6] != b" " else b"LEEF:" + body[5:].lstrip(b" "))
    if app:
        prefix = _PREFIX_APPS.get(app.rstrip(b":").upper())
        rest = body.lstrip(b": ")
        if prefix is not None and _VERSION_FIRST.match(rest):  # "0|Trend..." under APP-NAME CEF
            return _read(prefix + rest, b"", cef, leef)
    # A tag or second header before the event ("ddi01 CEF:0|..."), as relays sometimes add.
    for marker in (b" CEF:", b" LEEF:"):
        at = body.find(marker, 0, 512)
        if at >= 0:
            return _read(body[at + 1 :], b"", cef, leef)
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return BINARY
    return BINARY if _CONTROL.search(body) else NOT_CEF_OR_LEEF
