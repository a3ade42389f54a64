"""The syslog receiver on real sockets (127.0.0.1, free ports): UDP, TCP, mapping, flushing."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import pytest

from bot.syslog import MinuteCount, SyslogIndex, SyslogReceiver

GUID = "6B593E17AFB7-40FBBB28-A4CE-0462-A536"
NOW = datetime(2024, 3, 9, 8, 5, 30, tzinfo=UTC).timestamp()
MINUTE = datetime(2024, 3, 9, 8, 5, tzinfo=UTC)
HEAD = "CEF:0|Trend Micro|Deep Discovery Inspector|6.7.1164|20|Malware URL requested|6|"


def cef(ext: str, rt: str = "Mar 09 2024 17:04:10 GMT+09:00") -> bytes:
    return f"<134>Mar 09 17:04:10 sensor {HEAD}rt={rt} cn3Label=ThreatType cn3=2 {ext}".encode()


def leef(ext: str) -> bytes:
    return (
        "<134>1 2024-03-09T08:03:00Z sensor - - - - LEEF:1.0|Trend Micro|"
        "Deep Discovery Inspector|6.7|SECURITY_RISK_DETECTION|"
        f"devTime=Mar 09 2024 17:03:59 GMT+09:00\tsev=6\tmsg=マルウェア\t{ext}"
    ).encode()


BY_HOST = cef("dvchost=ddi-tokyo.example.co.jp dvc=10.99.0.1 msg=不審な通信")
BY_GUID = leef(f"deviceGUID={GUID.lower()}")
BY_SENDER = cef("dvchost=not-in-inventory", rt="1709971500000")  # 08:05:00Z
NOT_DETECTION = f"<134>Mar 09 17:04:10 s {HEAD.replace('|20|', '|300999|')}msg=x".encode()


class Sink:
    def __init__(self, failures: int = 0) -> None:
        self.batches: list[list[MinuteCount]] = []
        self.failures = failures

    async def __call__(self, counts: Sequence[MinuteCount]) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("database is down")
        self.batches.append(list(counts))

    @property
    def counts(self) -> list[MinuteCount]:
        return [c for batch in self.batches for c in batch]


def index() -> SyslogIndex:
    return SyslogIndex(
        [
            ("ddi-tokyo", ["ddi-tokyo.example.co.jp"]),
            ("ddi-osaka", [GUID]),
            ("ddi-local", ["127.0.0.2"]),  # by the sender address
        ]
    )


@pytest.fixture
def sink() -> Sink:
    return Sink()


@pytest.fixture
async def receiver(sink: Sink) -> AsyncIterator[SyslogReceiver]:
    r = SyslogReceiver(index(), sink, host="127.0.0.1", udp_port=0, tcp_port=0,
                       flush_interval=3600, clock=lambda: NOW)  # fmt: skip
    async with r:
        yield r


async def received(receiver: SyslogReceiver, n: int) -> None:
    """Wait until the receiver has taken in ``n`` messages (the deadline only avoids a hang)."""
    for _ in range(500):
        if receiver.stats().received >= n:
            assert receiver.stats().received == n
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"received {receiver.stats().received} of {n} messages")


def send_udp(port: int, *messages: bytes, source: str = "127.0.0.1") -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((source, 0))
        for message in messages:
            sock.sendto(message, ("127.0.0.1", port))


async def send_tcp(port: int, *pieces: bytes, source: str = "127.0.0.1") -> None:
    _, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for piece in pieces:
        writer.write(piece)
        await writer.drain()
        await asyncio.sleep(0.005)  # separate segments (the result does not depend on it)
    writer.close()
    await writer.wait_closed()


def octet(message: bytes) -> bytes:
    return b"%d %s" % (len(message), message)


async def test_udp_detections_are_counted_per_appliance_and_minute(
    receiver: SyslogReceiver, sink: Sink
) -> None:
    assert receiver.udp_port and receiver.tcp_port
    assert receiver.udp_rcvbuf and receiver.udp_rcvbuf > 212992
    send_udp(receiver.udp_port, BY_HOST, BY_HOST, BY_GUID, NOT_DETECTION)
    send_udp(receiver.udp_port, BY_SENDER + b"\n", source="127.0.0.2")
    await received(receiver, 5)
    assert await receiver.flush()
    assert sink.counts == [
        MinuteCount("ddi-osaka", datetime(2024, 3, 9, 8, 3, tzinfo=UTC), 1),
        MinuteCount("ddi-tokyo", datetime(2024, 3, 9, 8, 4, tzinfo=UTC), 2),
        MinuteCount("ddi-local", MINUTE, 1),
    ]
    stats = receiver.stats()
    assert (stats.counted, stats.ignored, stats.bad, stats.unknown_sender) == (4, 1, 0, 0)
    assert stats.last_seen == {
        "ddi-tokyo": datetime.fromtimestamp(NOW, UTC),
        "ddi-osaka": datetime.fromtimestamp(NOW, UTC),
        "ddi-local": datetime.fromtimestamp(NOW, UTC),
    }


async def test_unknown_senders_are_counted_not_stored(receiver: SyslogReceiver, sink: Sink) -> None:
    assert receiver.udp_port
    send_udp(receiver.udp_port, BY_SENDER)  # from 127.0.0.1: not in the inventory
    await received(receiver, 1)
    await receiver.flush()
    assert sink.counts == []
    assert receiver.stats().unknown_sources == {"127.0.0.1 not-in-inventory": 1}


async def test_tcp_both_framings_split_across_segments(
    receiver: SyslogReceiver, sink: Sink
) -> None:
    assert receiver.tcp_port
    stream = octet(BY_HOST) + BY_GUID + b"\n" + octet(BY_HOST) + b"\n" + BY_HOST + b"\r\n"
    pieces = [stream[:3], stream[3:200], stream[200:201], stream[201:700], stream[700:]]
    await send_tcp(receiver.tcp_port, *pieces)
    await send_tcp(receiver.tcp_port, octet(BY_SENDER), BY_SENDER, source="127.0.0.2")
    await received(receiver, 6)
    await receiver.flush()
    assert sink.counts == [
        MinuteCount("ddi-osaka", datetime(2024, 3, 9, 8, 3, tzinfo=UTC), 1),
        MinuteCount("ddi-tokyo", datetime(2024, 3, 9, 8, 4, tzinfo=UTC), 3),
        MinuteCount("ddi-local", MINUTE, 2),  # octet frame + last line without LF
    ]


async def test_garbage_never_stops_the_receiver(receiver: SyslogReceiver, sink: Sink) -> None:
    assert receiver.udp_port and receiver.tcp_port
    # Empty datagrams are not messages; the other two are bad.
    send_udp(receiver.udp_port, b"\x00\xff\xfe\x01", b"<999>junk", b"", b"\n")
    await send_tcp(
        receiver.tcp_port,
        b"\xde\xad\xbe\xef\x00\n",  # binary garbage line: bad
        b"99999999 " + b"x" * 100,  # length over the 64 KiB cap: bad, its bytes skipped
    )
    # An oversize line (bad), then a good one on the same connection.
    await send_tcp(receiver.tcp_port, b"A" * 70_000 + b"\n", BY_HOST + b"\n")
    # Byte soup: 11 LF-separated lines of control bytes and invalid UTF-8, all bad.
    await send_tcp(receiver.tcp_port, bytes(range(256)) * 10)
    await received(receiver, 2 + 2 + 2 + 11)
    send_udp(receiver.udp_port, BY_HOST)
    await received(receiver, 18)
    stats = receiver.stats()
    assert (stats.counted, stats.ignored, stats.bad) == (2, 0, 16)
    await receiver.flush()
    assert sink.counts == [MinuteCount("ddi-tokyo", datetime(2024, 3, 9, 8, 4, tzinfo=UTC), 2)]


async def test_a_failing_sink_keeps_the_counts_for_the_next_flush(
    receiver: SyslogReceiver, sink: Sink
) -> None:
    assert receiver.udp_port
    sink.failures = 2
    send_udp(receiver.udp_port, BY_HOST)
    await received(receiver, 1)
    assert not await receiver.flush()
    send_udp(receiver.udp_port, BY_HOST)
    await received(receiver, 2)
    assert not await receiver.flush()
    assert receiver.stats().pending == 2
    assert await receiver.flush()
    assert sink.batches == [[MinuteCount("ddi-tokyo", datetime(2024, 3, 9, 8, 4, tzinfo=UTC), 2)]]
    assert receiver.stats().pending == 0


async def test_stop_flushes_and_periodic_flush_runs() -> None:
    sink = Sink()
    r = SyslogReceiver(index(), sink, host="127.0.0.1", udp_port=0, tcp_port=None,
                       flush_interval=0.05, clock=lambda: NOW)  # fmt: skip
    async with r:
        assert r.udp_port and r.tcp_port is None
        send_udp(r.udp_port, BY_HOST)
        await received(r, 1)
        for _ in range(500):
            if sink.batches:
                break
            await asyncio.sleep(0.01)
        assert sink.counts == [MinuteCount("ddi-tokyo", datetime(2024, 3, 9, 8, 4, tzinfo=UTC), 1)]
        send_udp(r.udp_port, BY_GUID)
        await received(r, 2)
        r.flush_interval = 3600  # from now on only the final flush on stop
    assert sink.counts[-1] == MinuteCount("ddi-osaka", datetime(2024, 3, 9, 8, 3, tzinfo=UTC), 1)
    assert r.stats().pending == 0


async def test_stop_with_a_failing_sink_keeps_the_counts() -> None:
    sink = Sink(failures=1)
    r = SyslogReceiver(index(), sink, host="127.0.0.1", udp_port=0, tcp_port=0,
                       flush_interval=3600, clock=lambda: NOW)  # fmt: skip
    async with r:
        assert r.tcp_port
        await send_tcp(r.tcp_port, BY_HOST + b"\n")
        await received(r, 1)
    assert sink.batches == []
    assert r.stats().pending == 1


async def test_when_full_a_new_connection_is_refused_while_the_others_are_recent() -> None:
    r = SyslogReceiver(index(), Sink(), host="127.0.0.1", udp_port=None, tcp_port=0,
                       max_connections=1, clock=lambda: NOW)  # fmt: skip
    async with r:
        assert r.tcp_port
        _, writer = await asyncio.open_connection("127.0.0.1", r.tcp_port)
        writer.write(BY_HOST + b"\n")
        await writer.drain()
        await received(r, 1)
        second_reader, second_writer = await asyncio.open_connection("127.0.0.1", r.tcp_port)
        assert await second_reader.read() == b""  # closed by the receiver
        second_writer.close()
        writer.write(BY_HOST + b"\n")  # the first one still works
        await writer.drain()
        await received(r, 2)
        writer.close()
        await writer.wait_closed()
    assert r.stats().counted == 2


async def test_when_full_a_long_idle_connection_gives_way() -> None:
    """Idle connections (a quiet sensor's, or someone holding many open) cannot lock out a
    sensor that has something to send."""
    r = SyslogReceiver(index(), Sink(), host="127.0.0.1", udp_port=None, tcp_port=0,
                       max_connections=1, clock=lambda: NOW, evict_idle_after=0.0)  # fmt: skip
    async with r:
        assert r.tcp_port
        idle_reader, idle_writer = await asyncio.open_connection("127.0.0.1", r.tcp_port)
        idle_writer.write(BY_HOST + b"\n")
        await idle_writer.drain()
        await received(r, 1)
        _, writer = await asyncio.open_connection("127.0.0.1", r.tcp_port)
        assert await idle_reader.read() == b""  # the idle one was closed by the receiver
        idle_writer.close()
        writer.write(BY_HOST + b"\n")
        await writer.drain()
        await received(r, 2)
        writer.close()
        await writer.wait_closed()
    assert r.stats().counted == 2


@pytest.mark.parametrize("kind", [socket.SOCK_DGRAM, socket.SOCK_STREAM])
async def test_ports_in_use_fail_cleanly(kind: socket.SocketKind) -> None:
    with socket.socket(socket.AF_INET, kind) as busy:
        busy.bind(("127.0.0.1", 0))
        if kind == socket.SOCK_STREAM:
            busy.listen()
        port = busy.getsockname()[1]
        udp, tcp = (port, 0) if kind == socket.SOCK_DGRAM else (0, port)
        r = SyslogReceiver(index(), Sink(), host="127.0.0.1", udp_port=udp, tcp_port=tcp)
        with pytest.raises(OSError):
            await r.start()
        if kind == socket.SOCK_STREAM:  # the UDP listener opened first was closed again
            assert r.udp_port
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as again:
                again.bind(("127.0.0.1", r.udp_port))


def ipv6_available() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not ipv6_available(), reason="no IPv6 on this machine")
async def test_dual_stack_listener_takes_ipv4_and_maps_the_sender() -> None:
    sink = Sink()
    r = SyslogReceiver(index(), sink, host="::", udp_port=0, tcp_port=0, clock=lambda: NOW)
    async with r:
        assert r.udp_port and r.tcp_port
        send_udp(r.udp_port, BY_SENDER, source="127.0.0.2")  # seen as ::ffff:127.0.0.2
        await send_tcp(r.tcp_port, BY_SENDER + b"\n", source="127.0.0.2")
        await received(r, 2)
    assert sink.counts == [MinuteCount("ddi-local", MINUTE, 2)]
