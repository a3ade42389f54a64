"""Hostile syslog never crashes the receiver: a seeded fuzz of the whole message path.

What the listeners do with bytes off the wire is replayed without sockets, so it is fast and
deterministic: UDP datagrams go through ``UdpListener.datagram_received`` and TCP streams, cut into
random chunks, through ``TcpListener`` (and so its ``StreamDeframer``), both into the receiver's
own ``MessageHandler``. Every message must end up counted, ignored, bad or from an unknown sender,
exactly once; nothing may raise, buffers stay bounded, and the handler's last-resort ``except``
(which would hide a parser bug by counting a detection as bad) must never fire.

The inputs that once broke a parser are kept below as explicit regression cases.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from bot.syslog import (
    DetectionCounter,
    DetectionEvent,
    MessageHandler,
    Rejected,
    StreamDeframer,
    SyslogIndex,
    parse_event,
    parse_syslog,
)
from bot.syslog.events import Sighting, sight
from bot.syslog.framing import parse_rfc5424_time
from bot.syslog.listeners import TcpListener, UdpListener
from bot.syslog.times import parse_event_time, parse_iso_time

GUID = "6B593E17AFB7-40FBBB28-A4CE-0462-A536"
NOW = datetime(2024, 3, 9, 8, 6, tzinfo=UTC).timestamp()
SENDERS = ("10.1.0.11", "::ffff:10.1.0.11", "192.0.2.99", "?")
MAX_MESSAGE = 64 * 1024
SAFETY_NET = "could not be handled"  # what MessageHandler logs when a parser raised

BODIES = [
    (
        "CEF:0|Trend Micro|Deep Discovery Inspector|6.7.1164|20|Malware URL requested - Type 1|6|"
        "rt=Mar 09 2024 17:05:21 GMT+09:00 cnt=1 cn3Label=ThreatType cn3=2 dvc=10.1.0.11 "
        f"dvchost=ddi-tokyo.example.co.jp deviceExternalId={GUID} deviceDirection=1 "
        "request=http://bad.example/dl?id=7&t\\=x msg=不審なURLへのアクセスを検出しました"
    ).encode(),
    (
        "CEF:0|Trend Micro|Deep Discovery Inspector|6.7.1164|1834|SMB2 Remote Code Execution|8|"
        "rt=1709971521000 app=SMB2 cnt=1 cn4Label=Deep Discovery_ThreatType cn4=4 "
        f"cs4Label=Deep Discovery_SrcGroup cs4=監視グループ1 deviceGUID={GUID} dvc=10.1.0.11 "
        "dvchost=ddi-tokyo dst=10.1.2.3 dpt=445 src=10.9.8.7 spt=49152"
    ).encode(),
    (
        b"CEF:0|Trend\\|Micro|Deep Discovery Inspector|6.7|300999|System event \\\\ x|3|"
        b"rt=2024-03-09T17:05:21.000+09:00 dvchost=ddi-osaka msg=a\\nb"
    ),
    (
        "LEEF:1.0|Trend Micro|Deep Discovery Inspector|6.7.1164|SECURITY_RISK_DETECTION|"
        "devTime=Mar 09 2024 17:05:21 GMT+09:00\tdevTimeFormat=MMM dd yyyy HH:mm:ss z\tsev=6\t"
        f"dvc=10.1.0.11\tdvchost=ddi-tokyo\tdeviceGUID={GUID}\tthreatType=2\truleId=20\t"
        "msg=マルウェアのURL"
    ).encode(),
    (
        b"LEEF:2.0|Trend Micro|Deep Discovery Inspector|6.7|MALWARE_DETECTION|^|"
        b"devTime=Mar 09 2024 17:05:21 GMT+09:00^sev=8^dvchost=ddi-tokyo^threatType=1"
    ),
    (
        b"LEEF:2.0|Trend Micro|Deep Discovery Inspector|6.7|100120|x09|"
        b"devTime=1709971521\tsev=2\tdvc=10.1.0.11"
    ),
    b"CEF:0|Other Vendor|Firewall|1.0|100|Deny|5|src=10.0.0.1 dst=10.0.0.2",
    b"ddi01 CEF:0|Trend Micro|Deep Discovery Inspector|6.7|20|x|6|dvc=10.1.0.11 rt=1709971521",
    b"sshd[42]: Accepted publickey for root from 10.0.0.1",
]
HEADERS = [
    b"",
    b"<134>Mar 09 17:05:21 ddi-tokyo ",
    b"<134>Mar  9 17:05:21 ",
    b"<134>1 2024-03-09T08:05:21.123Z ddi-tokyo.example ddi - 100 - ",
    b'<165>1 2024-03-09T17:05:21+09:00 h app 42 ID47 [ex@32473 iut="3" a="\\]"] \xef\xbb\xbf',
    b"<13>",
]
TOKENS = [
    b"|", b"\\|", b"=", b"\\=", b"\\", b"\\\\", b"\t", b"\x00", b" ", b"\n", b"\r\n", b"\xff",
    b"\xc3", b"\xe3\x81", b"\xef\xbb\xbf", b"[", b"]", b'"', b"<", b">", b"<999>", b"<1a>",
    b" rt=", b" dvc=", b" deviceGUID=", b" cn3Label=ThreatType cn3=", b"\tdevTime=", b"\tsev=",
    b"CEF:0|", b" CEF:", b"LEEF:2.0|", b" LEEF:", b"1 ", b"-",
]  # fmt: skip
HOSTILE_TIMES = [
    b"0", b"-5", b"99999999999", b"99999999999999999", b"9" * 19, b"9" * 309, b"9" * 400,
    b"9" * 5000, b"1e400", b"NaN", b"inf",
    b"Mar 09 2024 17:05:21." + b"1" * 5000 + b" GMT",
    b"Mar 09 0001 00:00:00 GMT+14:00", b"Dec 31 9999 23:59:59 GMT-14:00",
    b"Feb 30 2024 17:05:21 GMT", b"Mar 99 2024 99:99:99 GMT+99:99", b"Mar 9",
    b"0001-01-01T00:00:00+14:00", b"9999-12-31T23:59:59-14:00", b"0000-01-01T00:00:00Z",
    b"2024-03-09T17:05:21." + b"9" * 5000 + b"+09:00", b"2024-03-09T17:05:21\xff+09:00",
]  # fmt: skip
EVENT_IDS = [b"", b" ", b"9" * 5000, b"-1", b"\xff_DETECTION", b"199999", b"200000", b"\\|"]
COUNTS = [b"99999999999 ", b"9999999999 ", b"0 ", b"-5 ", b"00012 ", b"1234567890", b"65537 "]

# Inputs that broke a parser before they were fixed: (syslog message, what it must count as).
# Each raised inside MessageHandler, whose safety net then counted a real detection as bad.
REGRESSIONS = [
    # rt of 309+ digits: "int too large to convert to float" (OverflowError) in times._parse
    (BODIES[1].replace(b"rt=1709971521000", b"rt=" + b"9" * 400), "counted"),
    # 4301+ digits: int() refuses them (ValueError) in times._parse
    (BODIES[1].replace(b"rt=1709971521000", b"rt=" + b"9" * 5000), "counted"),
    # a 4301+ digit fraction of a second: the same ValueError in times._parse_month_first
    (BODIES[0].replace(b"21 GMT", b"21." + b"1" * 5000 + b" GMT"), "counted"),
    # an RFC 5424 header time outside datetime's range once in UTC: ValueError (year 0, year
    # 10000) in framing.parse_rfc5424_time; DetectionEvent.time raised the same for such an rt
    (b"<134>1 0001-01-01T00:00:00+14:00 ddi-tokyo ddi - 100 - " + BODIES[5], "counted"),
    (b"<134>1 9999-12-31T23:59:59-14:00 ddi-tokyo ddi - 100 - " + BODIES[5], "counted"),
    (BODIES[3].replace(b"Mar 09 2024 17:05:21 GMT+09:00", b"Jan 01 0001 00:00:00 GMT+14:00"),
     "counted"),
    # a 4301+ digit event id: int() refuses it (ValueError) in model.is_detection
    (BODIES[0].replace(b"|20|", b"|" + b"1" * 5000 + b"|"), "ignored"),
]  # fmt: skip


def _index() -> SyslogIndex:
    return SyslogIndex([("ddi-tokyo", ["10.1.0.11", "ddi-tokyo", GUID]), ("ddi-osaka", [])])


def _check_totals(counter: DetectionCounter) -> None:
    s = counter.stats()
    assert s.received == s.counted + s.ignored + s.bad + s.unknown_sender + s.refused
    assert len(s.unknown_sources) <= 256
    assert all(len(source) <= 200 for source in s.unknown_sources)
    assert s.pending <= s.counted
    counter.drain()  # turns the minutes into datetimes: must not raise either


def _no_safety_net(caplog: pytest.LogCaptureFixture) -> None:
    swallowed = [r for r in caplog.records if SAFETY_NET in r.getMessage()]
    assert not swallowed, swallowed[0].exc_info


# --- mutations ------------------------------------------------------------------------------

_TIME_VALUE = re.compile(rb"(rt=|devTime=)([^\t^]*?)(?= \w+=|\t|\^|$)")
_EVENT_ID = re.compile(rb"^((?:[^|]*\|){4})([^|]*)")
_5424_TIME = re.compile(rb"^(<\d+>1 )(\S+)")


def _truncate(rng: random.Random, m: bytes) -> bytes:
    return m[: rng.randrange(len(m) + 1)]


def _flip(rng: random.Random, m: bytes) -> bytes:
    if not m:
        return m
    b = bytearray(m)
    for _ in range(rng.randint(1, 4)):
        b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    return bytes(b)


def _insert(rng: random.Random, m: bytes) -> bytes:
    at = rng.randrange(len(m) + 1)
    return m[:at] + rng.choice(TOKENS) * rng.choice((1, 1, 2, 50)) + m[at:]


def _random_bytes(rng: random.Random, m: bytes) -> bytes:
    at = rng.randrange(len(m) + 1)
    return m[:at] + rng.randbytes(rng.randint(1, 40)) + m[at:]


def _long_field(rng: random.Random, m: bytes) -> bytes:
    filler = rng.choice(
        (b"A", b" ", b"a=", b" a", b" k=v", b"\\", b"\\=", b"|", b"\t", b"\xe3\x81\x82", b"[")
    )
    at = rng.randrange(len(m) + 1)
    return m[:at] + filler * rng.choice((300, 3000, 40000)) + m[at:]


def _hostile_time(rng: random.Random, m: bytes) -> bytes:
    value = rng.choice(HOSTILE_TIMES)
    m = _TIME_VALUE.sub(lambda g: g.group(1) + value, m, count=1)
    return _5424_TIME.sub(lambda g: g.group(1) + rng.choice(HOSTILE_TIMES), m, count=1)


def _hostile_event_id(rng: random.Random, m: bytes) -> bytes:
    return _EVENT_ID.sub(lambda g: g.group(1) + rng.choice(EVENT_IDS), m, count=1)


def _duplicate(rng: random.Random, m: bytes) -> bytes:
    a = rng.randrange(len(m) + 1)
    b = rng.randrange(a, len(m) + 1)
    return m[:b] + m[a:b] * rng.randint(1, 5) + m[b:]


MUTATIONS: list[Callable[[random.Random, bytes], bytes]] = [
    _truncate, _flip, _insert, _insert, _insert, _random_bytes, _long_field, _hostile_time,
    _hostile_time, _hostile_event_id, _duplicate,
]  # fmt: skip


def hostile_message(rng: random.Random) -> bytes:
    message = rng.choice(HEADERS) + rng.choice(BODIES)
    for _ in range(rng.choice((0, 1, 1, 2, 3))):
        message = rng.choice(MUTATIONS)(rng, message)
    return message


def messages(seed: int, n: int) -> Iterator[bytes]:
    rng = random.Random(seed)
    for _ in range(n):
        yield hostile_message(rng)


# --- the parsers on their own ---------------------------------------------------------------


def _parse_everything(message: bytes) -> None:
    """Every public parsing entry point on one message; none may raise."""
    split = parse_syslog(message)
    if split is not None:
        _ = (split.host, split.timestamp, split.local_timestamp(2024))
        body = split.body
    else:
        body = message
    for candidate in (body, message):
        event = parse_event(candidate)
        assert isinstance(event, DetectionEvent | Rejected)
        if isinstance(event, DetectionEvent):
            assert event.timestamp is None or isinstance(event.timestamp, float)
            _ = (event.time, event.identifiers)


def test_parsers_never_raise_on_mutated_events() -> None:
    for message in messages(seed=1, n=2500):
        _parse_everything(message)


def test_sight_reads_what_parse_event_reads_on_mutated_events() -> None:
    """The receiver counts with ``sight``, which skips what counting does not need: on every
    message it must agree with the full parse on the verdict, the identifiers and the time."""
    agreed = 0
    for message in messages(seed=2, n=2500):
        split = parse_syslog(message)
        body, app = (message, b"") if split is None else (split.body, split.app)
        full, seen = parse_event(body, app), sight(body, app)
        if isinstance(full, Rejected):
            assert seen == full, message
            continue
        assert isinstance(seen, Sighting), message
        decoded = tuple(v.decode("utf-8", "replace") if v else None for v in seen[:3])
        assert decoded == (full.device_guid, full.dvchost, full.dvc), message
        assert seen.timestamp == full.timestamp, message
        agreed += 1
    assert agreed > 500  # the corpus does reach detections, not only rejections


@pytest.mark.parametrize(
    "raw", [*HOSTILE_TIMES, b"1709971521000", b"Mar 09 2024 17:05:21 GMT+09:00"]
)
def test_event_times_are_none_or_representable(raw: bytes) -> None:
    value = parse_event_time(raw)
    if value is not None:
        assert datetime.fromtimestamp(value, UTC)  # what DetectionEvent.time does
    iso = parse_iso_time(raw)
    if iso is not None:
        assert datetime.fromtimestamp(iso, UTC)
    parse_rfc5424_time(raw)


# --- UDP: one datagram, one message ---------------------------------------------------------


def _udp_case(listener: UdpListener, counter: DetectionCounter, data: bytes, sender: str) -> None:
    before = counter.received
    listener.datagram_received(data, (sender, 514))
    expected = 1 if data.rstrip(b"\r\n\x00") else 0
    assert counter.received - before == expected, data[:200]


def test_udp_datagrams_are_each_counted_exactly_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.syslog.pipeline")
    counter = DetectionCounter()
    listener = UdpListener(MessageHandler(_index(), counter), clock=lambda: NOW)
    rng = random.Random(2)
    for message in messages(seed=3, n=3000):
        _udp_case(listener, counter, message, rng.choice(SENDERS))
    for _ in range(300):  # pure noise, including empty and NUL-only datagrams
        _udp_case(listener, counter, rng.randbytes(rng.randrange(0, 300)), rng.choice(SENDERS))
    _check_totals(counter)
    assert counter.counted > 100 and counter.ignored > 100 and counter.bad > 100
    _no_safety_net(caplog)


@pytest.mark.parametrize(("message", "outcome"), REGRESSIONS, ids=range(len(REGRESSIONS)))
def test_regressions(message: bytes, outcome: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.syslog.pipeline")
    _parse_everything(message)
    counter = DetectionCounter()
    UdpListener(MessageHandler(_index(), counter), clock=lambda: NOW).datagram_received(
        message, ("10.1.0.11", 514)
    )
    assert (counter.counted, counter.ignored, counter.bad) == (
        outcome == "counted",
        outcome == "ignored",
        outcome == "bad",
    )
    _check_totals(counter)
    _no_safety_net(caplog)


def test_unique_long_values_do_not_pile_up_in_caches() -> None:
    """Once 4096 distinct 60 KB rt values (or identifiers) were cached: about 0.5 GB."""
    counter = DetectionCounter()
    handler = MessageHandler(_index(), counter)
    head = b"CEF:0|Trend Micro|Deep Discovery Inspector|6.7|20|x|6|"
    fields = (b"rt=Mar 09 2024 17:05:21 GMT", b"dvchost=", b"deviceExternalId=", b"dvc=")
    handler.handle(head + b"dvc=warm-up", "192.0.2.1", NOW)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(400):
            filler = b"%06d" % i + b"x" * 60_000
            handler.handle(head + fields[i % 4] + filler, "192.0.2.1", NOW)
        retained = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert counter.received == 401
    assert retained < 2_000_000, f"{retained} bytes kept after 400 messages"
    _check_totals(counter)


# --- TCP: a stream of frames, cut anywhere --------------------------------------------------


class FakeTransport(asyncio.Transport):
    def __init__(self, peer: str) -> None:
        super().__init__(extra={"peername": (peer, 40000)})
        self.closed = False

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True


class CountingHandler:
    """Passes everything to the real handler and counts what the listener hands over."""

    def __init__(self, inner: MessageHandler) -> None:
        self.inner = inner
        self.frames = 0
        self.rejected = 0

    def handle(self, frame: bytes, sender: str, received_at: float) -> None:
        self.frames += 1
        self.inner.handle(frame, sender, received_at)

    def reject(self, n: int) -> None:
        self.rejected += n
        self.inner.reject(n)

    def admits(self, sender: str) -> bool:
        return self.inner.admits(sender)


def _frame(rng: random.Random, message: bytes) -> bytes:
    kind = rng.random()
    if kind < 0.4:
        return b"%d %s" % (len(message), message)
    if kind < 0.75:
        return message + rng.choice((b"\n", b"\r\n", b"\n\n", b"\x00\n"))
    if kind < 0.9:  # a wrong or absurd octet count
        return rng.choice((*COUNTS, b"%d " % max(0, len(message) + rng.randint(-5, 5)))) + message
    return rng.randbytes(rng.randint(1, 100))


def _stream(rng: random.Random) -> bytes:
    return b"".join(_frame(rng, hostile_message(rng)) for _ in range(rng.randint(1, 15)))


def _chunks(rng: random.Random, data: bytes) -> Iterator[bytes]:
    pos = 0
    while pos < len(data):
        size = rng.choice((1, 2, 7, 64, 1500, 65536, len(data)))
        yield data[pos : pos + size]
        pos += size


async def test_tcp_streams_never_break_the_connection(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.syslog.pipeline")
    counter = DetectionCounter()
    handler = CountingHandler(MessageHandler(_index(), counter))
    connections: set[TcpListener] = set()
    rng = random.Random(4)
    for _ in range(250):
        max_message = rng.choice((MAX_MESSAGE, 1024, 100))
        listener = TcpListener(handler, connections, 8, max_message, clock=lambda: NOW)
        listener.connection_made(FakeTransport(rng.choice(SENDERS)))
        for chunk in _chunks(rng, _stream(rng)):
            listener.data_received(chunk)
            assert listener.deframer.buffered <= max_message + 12
        if rng.random() < 0.5:
            listener.eof_received()
        listener.connection_lost(None)
        assert listener.deframer.buffered == 0
    assert not connections
    assert counter.received == handler.frames + handler.rejected
    assert handler.rejected > 0 and counter.counted > 100
    _check_totals(counter)
    _no_safety_net(caplog)


def _deframe(data: bytes, cuts: list[int], max_message: int) -> tuple[list[bytes], int]:
    d = StreamDeframer(max_message)
    out: list[bytes] = []
    last = 0
    for cut in [*cuts, len(data)]:
        out += d.feed(data[last:cut])
        last = cut
    out += d.close()
    assert d.buffered == 0
    return out, d.bad


def test_deframing_does_not_depend_on_how_the_stream_is_cut() -> None:
    rng = random.Random(5)
    for _ in range(400):
        data = rng.choice((_stream(rng), rng.randbytes(rng.randint(0, 3000))))
        max_message = rng.choice((MAX_MESSAGE, 300, 40))
        whole = _deframe(data, [], max_message)
        cuts = sorted(rng.randrange(len(data) + 1) for _ in range(rng.randint(1, 20)))
        assert _deframe(data, cuts, max_message) == whole, data[:200]
        assert all(frame and len(frame) <= max_message for frame in whole[0])


def test_deframer_memory_stays_bounded_on_endless_input() -> None:
    for unit in (b"A", b"1", b"9" * 10, b"99999999 ", b"60000 ", b"\x00", b"<13>x "):
        d = StreamDeframer(max_message=1000)
        for _ in range(300):
            d.feed(unit * 97)
            assert d.buffered <= 1000 + 12
        d.close()
