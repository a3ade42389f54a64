"""DDI detection events in CEF, TMEF and LEEF, parsed from a syslog body. Pure; the hot path.

Only what the receiver needs is extracted, by targeted scanning rather than by splitting every
key: the device identifiers (``dvc``, ``dvchost``, ``deviceExternalId``/``deviceGUID``), the
event time (CEF/TMEF ``rt``, LEEF ``devTime``), the severity and the threat type. See ``cef``
and ``leef`` for the formats.

A Trend Micro DDI line that is not a detection (system, alert, update events) is *ignored*, as is
any other product's or non-CEF/LEEF text; a line that cannot be read is *bad*.
"""

from __future__ import annotations

import re

from bot.syslog.cef import parse_cef
from bot.syslog.leef import parse_leef
from bot.syslog.model import (
    BINARY,
    NOT_CEF_OR_LEEF,
    DetectionEvent,
    EventFormat,
    Rejected,
)

__all__ = ["DetectionEvent", "EventFormat", "Rejected", "parse_event"]

_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def parse_event(body: bytes) -> DetectionEvent | Rejected:
    """The detection in ``body``, or why there is none (``Rejected``: ignored or bad)."""
    if body[:4] == b"CEF:":
        return parse_cef(body)
    if body[:5] == b"LEEF:":
        return parse_leef(body)
    # A tag or second header before the event ("ddi01 CEF:0|..."), as relays sometimes add.
    for marker, parse in ((b" CEF:", parse_cef), (b" LEEF:", parse_leef)):
        at = body.find(marker, 0, 512)
        if at >= 0:
            return parse(body[at + 1 :])
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return BINARY
    return BINARY if _CONTROL.search(body) else NOT_CEF_OR_LEEF
