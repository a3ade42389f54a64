"""Syslog detection receiver: DDI detections (CEF, LEEF, TMEF) counted per appliance per minute.

Building blocks, each without I/O except the listeners and the receiver:
``framing`` (TCP de-framing, syslog headers), ``events`` (CEF/LEEF/TMEF), ``mapping``
(identifier -> appliance), ``counter`` (per-minute counts and totals), ``pipeline`` (one message
through all of them), ``listeners`` (UDP/TCP sockets) and ``receiver`` (start/stop and flushing).
"""

from bot.syslog.counter import DetectionCounter, MinuteCount, SyslogStats
from bot.syslog.events import DetectionEvent, Rejected, parse_event
from bot.syslog.framing import StreamDeframer, SyslogMessage, parse_syslog
from bot.syslog.mapping import SyslogIndex, normalise_id
from bot.syslog.pipeline import FrameHandler, MessageHandler
from bot.syslog.receiver import Sink, SyslogReceiver

__all__ = [
    "DetectionCounter",
    "DetectionEvent",
    "FrameHandler",
    "MessageHandler",
    "MinuteCount",
    "Rejected",
    "Sink",
    "StreamDeframer",
    "SyslogIndex",
    "SyslogMessage",
    "SyslogReceiver",
    "SyslogStats",
    "normalise_id",
    "parse_event",
    "parse_syslog",
]
