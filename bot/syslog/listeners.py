"""UDP, TCP and TLS syslog listeners on the running event loop; messages go to a ``FrameHandler``.

TLS (RFC 5425) is the TCP listener on a TLS server socket: the same framing, and the same bounds.
A stream from a sender the handler does not admit is closed at once, before any message is
read (for TLS, once the handshake is done: asyncio tells the protocol only then).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
from collections.abc import Callable
from typing import Any

from bot.syslog.framing import DEFAULT_MAX_MESSAGE, StreamDeframer
from bot.syslog.pipeline import FrameHandler

log = logging.getLogger(__name__)

DEFAULT_UDP_RCVBUF = 8 * 1024 * 1024
DEFAULT_MAX_CONNECTIONS = 512
EVICT_IDLE_AFTER = 300.0  # seconds of silence after which a connection may give way when full
UDP_BATCH = 512  # datagrams read per wake-up before yielding to the event loop
UDP_MAX = 65535
TCP_BACKLOG = 128
TLS_HANDSHAKE_TIMEOUT = 10.0  # seconds; a peer that never finishes the handshake is dropped
Clock = Callable[[], float]


class UdpListener(asyncio.DatagramProtocol):
    """One message per datagram (RFC 5426); a trailing LF or NUL is dropped."""

    def __init__(self, handler: FrameHandler, clock: Clock = time.time) -> None:
        self.handler = handler
        self.clock = clock

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if data[-1:] in (b"\n", b"\x00", b"\r"):
            data = data.rstrip(b"\r\n\x00")
        if data:
            self.handler.handle(data, addr[0], self.clock())

    def error_received(self, exc: Exception) -> None:
        log.debug("syslog UDP socket error: %s", exc)


class UdpReader:
    """Reads a UDP socket straight from the selector, many datagrams per wake-up.

    asyncio's datagram transport reads one datagram per event-loop iteration, which costs more
    than parsing the message; draining the socket in a loop is several times faster.
    """

    def __init__(
        self,
        sock: socket.socket,
        handler: FrameHandler,
        clock: Clock = time.time,
        batch: int = UDP_BATCH,
    ) -> None:
        self.sock = sock
        self.handler = handler
        self.clock = clock
        self.batch = batch
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.add_reader(self.sock.fileno(), self._read_ready)
        self._loop = loop

    def close(self) -> None:
        if self._loop is not None:
            self._loop.remove_reader(self.sock.fileno())
            self._loop = None
        self.sock.close()

    def _read_ready(self) -> None:
        recvfrom, handle = self.sock.recvfrom, self.handler.handle
        now = self.clock()
        for _ in range(self.batch):
            try:
                data, addr = recvfrom(UDP_MAX)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                log.debug("syslog UDP socket error: %s", exc)
                return
            if data[-1:] in (b"\n", b"\x00", b"\r"):
                data = data.rstrip(b"\r\n\x00")
            if data:
                handle(data, addr[0], now)


class TcpListener(asyncio.Protocol):
    """One TCP connection; framing is decided per message (octet counting or LF)."""

    def __init__(
        self,
        handler: FrameHandler,
        connections: set[TcpListener],
        max_connections: int,
        max_message: int,
        clock: Clock = time.time,
        evict_idle_after: float = EVICT_IDLE_AFTER,
    ) -> None:
        self.evict_idle_after = evict_idle_after
        self.handler = handler
        self.clock = clock
        self.connections = connections
        self.max_connections = max_connections
        self.deframer = StreamDeframer(max_message)
        self.sender = "?"
        self.transport: asyncio.Transport | None = None
        self.last_active = 0.0  # event loop time of the last data

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        peer = transport.get_extra_info("peername")
        self.sender = str(peer[0]) if isinstance(peer, tuple) and peer else "?"
        self.last_active = asyncio.get_running_loop().time()
        if not self.handler.admits(self.sender):
            log.debug(
                "syslog TCP: %s is not in DDI_BOT_SYSLOG_ALLOW, connection closed", self.sender
            )
            transport.abort()
            return
        if len(self.connections) >= self.max_connections:
            # full: a connection silent for a long time gives way (a quiet sensor's, or someone's
            # who holds many open: senders reconnect); otherwise the newcomer is refused
            now = asyncio.get_running_loop().time()
            idlest = min(self.connections, key=lambda c: c.last_active)
            if now - idlest.last_active < self.evict_idle_after:
                log.warning(
                    "syslog TCP: too many connections, refusing the one from %s", self.sender
                )
                transport.abort()
                return
            log.warning(
                "syslog TCP: %d connections; closing one idle for %.0f s, from %s",
                len(self.connections),
                now - idlest.last_active,
                idlest.sender,
            )
            idlest.abort()
        self.transport = transport
        self.connections.add(self)

    def data_received(self, data: bytes) -> None:
        self.last_active = asyncio.get_running_loop().time()
        self._deliver(self.deframer.feed(data))

    def eof_received(self) -> bool:
        self._deliver(self.deframer.close())
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            self._deliver(self.deframer.close())
        self.connections.discard(self)
        self.transport = None

    def _deliver(self, frames: list[bytes]) -> None:
        handler, sender = self.handler, self.sender
        if frames:
            now = self.clock()
            for frame in frames:
                handler.handle(frame, sender, now)
        if self.deframer.bad:
            handler.reject(self.deframer.bad)
            self.deframer.bad = 0

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        self.connections.discard(self)
        if self.transport is not None:
            self.transport.abort()


def bound_socket(host: str, port: int, kind: socket.SocketKind, rcvbuf: int = 0) -> socket.socket:
    """A bound, non-blocking socket; ``"::"`` also takes IPv4 (dual stack), for UDP and TCP alike.

    UDP gets a large receive buffer (``rcvbuf``) so bursts are not lost.
    """
    family, _, _, _, address = socket.getaddrinfo(
        host or None, port, type=kind, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind)
    try:
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        if kind == socket.SOCK_STREAM:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        elif rcvbuf:
            set_receive_buffer(sock, rcvbuf)
        sock.bind(address)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def set_receive_buffer(sock: socket.socket, size: int) -> int:
    """Ask for ``size`` bytes (past ``rmem_max`` when privileged); returns what the kernel gave."""
    force = getattr(socket, "SO_RCVBUFFORCE", None)
    try:
        if force is None:
            raise OSError
        sock.setsockopt(socket.SOL_SOCKET, force, size)
    except OSError:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
        except OSError as exc:
            log.warning("syslog UDP: could not set SO_RCVBUF to %d: %s", size, exc)
    granted: int = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    return granted


class UdpEndpoint:
    """A started UDP listener: a ``UdpReader`` or, on loops without ``add_reader``, a transport."""

    def __init__(self, reader: UdpReader | None, transport: asyncio.BaseTransport | None) -> None:
        self._reader = reader
        self._transport = transport

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
        if self._transport is not None:
            self._transport.close()


async def open_udp(
    handler: FrameHandler,
    host: str,
    port: int,
    rcvbuf: int = DEFAULT_UDP_RCVBUF,
    clock: Clock = time.time,
) -> tuple[UdpEndpoint, int, int]:
    """Start listening; returns the endpoint, the bound port (``port=0`` picks one) and the
    receive buffer size as the kernel reports it (Linux reports twice what it allots)."""
    sock = bound_socket(host, port, socket.SOCK_DGRAM, rcvbuf)
    granted: int = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    bound: int = sock.getsockname()[1]
    loop = asyncio.get_running_loop()
    reader = UdpReader(sock, handler, clock)
    try:
        reader.start(loop)
    except NotImplementedError:  # e.g. the Windows proactor loop
        transport, _ = await loop.create_datagram_endpoint(
            lambda: UdpListener(handler, clock), sock=sock
        )
        return UdpEndpoint(None, transport), bound, granted
    return UdpEndpoint(reader, None), bound, granted


async def open_tcp(
    handler: FrameHandler,
    host: str,
    port: int,
    connections: set[TcpListener],
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
    max_message: int = DEFAULT_MAX_MESSAGE,
    clock: Clock = time.time,
    evict_idle_after: float = EVICT_IDLE_AFTER,
    tls: ssl.SSLContext | None = None,
) -> tuple[asyncio.Server, int]:
    """Start listening (over TLS with ``tls``); returns the server and the bound port."""
    sock = bound_socket(host, port, socket.SOCK_STREAM)
    bound: int = sock.getsockname()[1]
    loop = asyncio.get_running_loop()
    try:
        server = await loop.create_server(
            lambda: TcpListener(
                handler, connections, max_connections, max_message, clock, evict_idle_after
            ),
            sock=sock,
            backlog=TCP_BACKLOG,
            ssl=tls,
            ssl_handshake_timeout=TLS_HANDSHAKE_TIMEOUT if tls is not None else None,
        )
    except BaseException:
        sock.close()
        raise
    return server, bound
