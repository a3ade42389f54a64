"""Per-minute detection counts, totals, drain and restore."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.syslog.counter import DetectionCounter, MinuteCount
from bot.syslog.listeners import UdpListener
from bot.syslog.mapping import SyslogIndex
from bot.syslog.pipeline import MessageHandler

NOW = datetime(2024, 3, 9, 8, 5, 30, tzinfo=UTC).timestamp()


def minute(h: int, m: int, day: int = 9) -> datetime:
    return datetime(2024, 3, day, h, m, tzinfo=UTC)


def test_counts_per_appliance_per_minute_from_the_event_time() -> None:
    c = DetectionCounter()
    c.count("a", NOW - 120, NOW)
    c.count("a", NOW - 100, NOW)
    c.count("a", NOW, NOW)
    c.count("b", None, NOW)
    assert c.drain() == [
        MinuteCount("a", minute(8, 3), 2),
        MinuteCount("a", minute(8, 5), 1),
        MinuteCount("b", minute(8, 5), 1),
    ]
    assert c.drain() == []


def test_event_time_more_than_a_day_off_uses_the_receive_time() -> None:
    c = DetectionCounter()
    c.count("a", NOW - 24 * 3600, NOW)  # exactly a day: still trusted
    c.count("a", NOW - 24 * 3600 - 1, NOW)
    c.count("a", NOW + 24 * 3600 + 60, NOW)
    c.count("a", 0.0, NOW)
    assert c.drain() == [
        MinuteCount("a", minute(8, 5, day=8), 1),
        MinuteCount("a", minute(8, 5), 3),
    ]


def test_restore_adds_back_to_what_arrived_since() -> None:
    c = DetectionCounter()
    c.count("a", NOW, NOW)
    drained = c.drain()
    c.count("a", NOW, NOW)
    c.count("b", NOW, NOW)
    c.restore(drained)
    assert c.pending == 3
    assert c.drain() == [MinuteCount("a", minute(8, 5), 2), MinuteCount("b", minute(8, 5), 1)]


def test_totals_last_seen_and_unknown_sources() -> None:
    c = DetectionCounter()
    c.count("a", None, NOW - 5)
    c.count("a", None, NOW)
    c.ignore()
    c.reject(3)
    c.unknown("10.9.9.9 ddi-x")
    c.unknown("10.9.9.9 ddi-x")
    s = c.stats()
    assert (s.received, s.counted, s.ignored, s.bad, s.unknown_sender, s.pending) == (
        8, 2, 1, 3, 2, 2,
    )  # fmt: skip
    assert s.last_seen == {"a": datetime.fromtimestamp(NOW, UTC)}
    assert s.unknown_sources == {"10.9.9.9 ddi-x": 2}


def test_unknown_sources_are_bounded() -> None:
    c = DetectionCounter()
    for i in range(1000):
        c.unknown(f"10.0.{i // 256}.{i % 256}")
    assert c.unknown_sender == 1000
    assert len(c.stats().unknown_sources) == 256


def test_message_handler_end_to_end_without_sockets() -> None:
    c = DetectionCounter()
    h = MessageHandler(SyslogIndex([("ddi-tokyo", ["ddi-tokyo", "10.1.0.11"])]), c)
    cef = b"CEF:0|Trend Micro|Deep Discovery Inspector|6.7|20|x|6|"
    h.handle(b"<134>Mar 09 17:05:21 ddi-tokyo " + cef + b"rt=1709971521000", "192.0.2.1", NOW)
    h.handle(b"<134>1 2024-03-09T08:04:00Z ddi-tokyo - - - - " + cef, "192.0.2.1", NOW)
    h.handle(b"<134>Mar 09 17:05:21 other " + cef + b"dvchost=nobody", "10.1.0.11", NOW)
    h.handle(b"<134>Mar 09 17:05:21 other " + cef + b"dvchost=nobody", "192.0.2.1", NOW)
    h.handle(b"<134>Mar 09 17:05:21 other hello", "192.0.2.1", NOW)
    h.handle(b"<134", "192.0.2.1", NOW)
    h.handle(b"\xff\x00", "192.0.2.1", NOW)
    h.reject(2)
    assert c.drain() == [MinuteCount("ddi-tokyo", minute(8, 4), 1),
                         MinuteCount("ddi-tokyo", minute(8, 5), 2)]  # fmt: skip
    s = c.stats()
    assert (s.received, s.counted, s.ignored, s.bad, s.unknown_sender) == (9, 3, 1, 4, 1)
    assert s.unknown_sources == {"192.0.2.1 nobody": 1}


def test_datagram_protocol_fallback_hands_messages_over() -> None:
    c = DetectionCounter()
    listener = UdpListener(MessageHandler(SyslogIndex([("ddi-tokyo", ["ddi-tokyo"])]), c),
                           clock=lambda: NOW)  # fmt: skip
    cef = b"<134>Mar 09 17:05:21 ddi-tokyo CEF:0|Trend Micro|Deep Discovery Inspector|6.7|20|x|6|"
    listener.datagram_received(cef + b"\n\x00", ("192.0.2.1", 514))
    listener.datagram_received(b"\n", ("192.0.2.1", 514))
    assert c.drain() == [MinuteCount("ddi-tokyo", minute(8, 5), 1)]
    assert c.received == 1
