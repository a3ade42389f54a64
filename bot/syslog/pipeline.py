"""One received syslog message -> header, event, appliance, count. Pure apart from the counter."""

from __future__ import annotations

import logging
from typing import Protocol

from bot.networks import AddressFilter
from bot.sensor_ids import is_usable
from bot.syslog.counter import DetectionCounter
from bot.syslog.events import Rejected, Sighting, sight
from bot.syslog.framing import has_offset_time, parse_rfc5424_time, split_syslog
from bot.syslog.mapping import SyslogIndex

log = logging.getLogger(__name__)
_WARN_LIMIT = 256  # refused senders named in the log, each once; a flood of others is counted


class FrameHandler(Protocol):
    """What the listeners hand messages to."""

    def handle(self, frame: bytes, sender: str, received_at: float) -> None: ...

    def reject(self, n: int) -> None: ...

    def admits(self, sender: str) -> bool:
        """Whether a stream from ``sender`` may be read at all (refused ones are counted)."""
        ...


class MessageHandler:
    """Parses, maps and counts; never raises (a message it cannot handle is counted as bad).

    With ``allow``, messages from other senders are counted as refused and dropped unread."""

    __slots__ = ("_warned", "allow", "counter", "index")

    def __init__(
        self, index: SyslogIndex, counter: DetectionCounter, allow: AddressFilter | None = None
    ) -> None:
        self.index = index
        self.counter = counter
        self.allow = allow
        self._warned: set[str] = set()  # senders already named in a warning

    def reject(self, n: int) -> None:
        self.counter.reject(n)

    def admits(self, sender: str) -> bool:
        if self.allow is None or self.allow.allows(sender):
            return True
        self._refuse(sender)
        return False

    def _refuse(self, sender: str) -> None:
        self.counter.refuse()
        warned = self._warned
        if sender not in warned and len(warned) < _WARN_LIMIT:
            warned.add(sender)
            log.warning(
                "syslog from %s refused: the address is outside DDI_BOT_SYSLOG_ALLOW", sender
            )

    def handle(self, frame: bytes, sender: str, received_at: float) -> None:
        counter = self.counter
        if self.allow is not None and not self.allow.allows(sender):
            self._refuse(sender)
            return
        try:
            message = split_syslog(frame)
            if message is None:
                counter.reject()
                return
            _rfc, host, stamp, app, body = message
            event = sight(body, app)
            if isinstance(event, Rejected):
                if event.kind == "bad":
                    counter.reject()
                else:
                    counter.ignore()
                return
            appliance = self.index.resolve_raw(event.device_guid, event.dvchost, event.dvc, sender)
            if appliance is None:  # last resort: the host named in the syslog header
                header_host = host.decode("utf-8", "replace")
                appliance = self.index.by_identifier(header_host) if header_host else None
                if appliance is None:
                    counter.unknown(f"{sender} {_label(event, header_host)}")
                    return
            when = event.timestamp
            if when is None and has_offset_time(stamp):
                header_time = parse_rfc5424_time(stamp)
                when = None if header_time is None else header_time.timestamp()
            counter.count(appliance, when, received_at)
        except Exception:  # a parser bug must not stop the receiver; never log the content
            log.debug("syslog message from %s could not be handled", sender, exc_info=True)
            counter.reject()


def _label(event: Sighting, header_host: str) -> str:
    """What names an unknown sender for operators: its first identifier that names a sensor."""
    for raw in (event.dvchost, event.dvc, event.device_guid):
        value = raw.decode("utf-8", "replace") if raw else ""
        if value and is_usable(value):
            return value
    if header_host and is_usable(header_host):
        return header_host
    return "-"
