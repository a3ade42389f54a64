"""The syslog receiver: UDP, TCP and TLS listeners, counting, and a periodic flush to a sink.

    async with SyslogReceiver(index, sink, udp_port=514, tcp_port=514) as receiver:
        ...  # receiver.udp_port / receiver.tcp_port are the bound ports (0 picks free ones)

``tls_port`` with ``tls`` (a server ``SSLContext``) adds RFC 5425 syslog over TLS; ``allow``
leaves out senders outside its networks (counted as refused).

The sink stores a batch of ``MinuteCount``; if it raises, the counts are kept for the next flush.
Stopping closes the listeners, then flushes one last time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType

from bot.networks import AddressFilter
from bot.syslog.counter import DetectionCounter, MinuteCount, SyslogStats
from bot.syslog.framing import DEFAULT_MAX_MESSAGE
from bot.syslog.listeners import (
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_UDP_RCVBUF,
    EVICT_IDLE_AFTER,
    Clock,
    TcpListener,
    UdpEndpoint,
    open_tcp,
    open_udp,
)
from bot.syslog.mapping import SyslogIndex
from bot.syslog.pipeline import FrameHandler, MessageHandler

log = logging.getLogger(__name__)

Sink = Callable[[Sequence[MinuteCount]], Awaitable[None]]


class SyslogReceiver:
    def __init__(
        self,
        index: SyslogIndex,
        sink: Sink,
        *,
        host: str = "0.0.0.0",
        udp_port: int | None = 514,
        tcp_port: int | None = 514,
        flush_interval: float = 60.0,
        max_message: int = DEFAULT_MAX_MESSAGE,
        udp_rcvbuf: int = DEFAULT_UDP_RCVBUF,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        evict_idle_after: float = EVICT_IDLE_AFTER,
        counter: DetectionCounter | None = None,
        clock: Clock = time.time,
        tls_port: int | None = None,
        tls: ssl.SSLContext | None = None,
        allow: AddressFilter | None = None,
    ) -> None:
        """``udp_port``/``tcp_port``/``tls_port`` ``None`` disables that listener; ``0`` picks a
        free port."""
        if tls_port is not None and tls is None:
            raise ValueError("a TLS syslog port needs a TLS context")
        self.index = index
        self.counter = counter or DetectionCounter()
        self.handler: FrameHandler = MessageHandler(index, self.counter, allow)
        self._sink = sink
        self._host = host
        self._want_udp, self._want_tcp, self._want_tls = udp_port, tcp_port, tls_port
        self._tls_context = tls
        self.flush_interval = flush_interval
        self._max_message = max_message
        self._udp_rcvbuf = udp_rcvbuf
        self._max_connections = max_connections
        self._evict_idle_after = evict_idle_after
        self._clock = clock
        self.udp_port: int | None = None
        self.tcp_port: int | None = None
        self.tls_port: int | None = None
        self.udp_rcvbuf: int | None = None  # as the kernel reports it
        self._udp: UdpEndpoint | None = None
        self._tcp: asyncio.Server | None = None
        self._tls: asyncio.Server | None = None
        self._connections: set[TcpListener] = set()
        self._flusher: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._flush_lock = asyncio.Lock()

    async def __aenter__(self) -> SyslogReceiver:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        try:
            if self._want_udp is not None:
                self._udp, self.udp_port, self.udp_rcvbuf = await open_udp(
                    self.handler, self._host, self._want_udp, self._udp_rcvbuf, self._clock
                )
                if self.udp_rcvbuf < self._udp_rcvbuf:
                    log.warning(
                        "syslog UDP receive buffer is %d bytes, %d asked: bursts may be lost "
                        "(raise net.core.rmem_max)",
                        self.udp_rcvbuf,
                        self._udp_rcvbuf,
                    )
            if self._want_tcp is not None:
                self._tcp, self.tcp_port = await open_tcp(
                    self.handler,
                    self._host,
                    self._want_tcp,
                    self._connections,
                    self._max_connections,
                    self._max_message,
                    self._clock,
                    self._evict_idle_after,
                )
            if self._want_tls is not None:
                self._tls, self.tls_port = await open_tcp(
                    self.handler,
                    self._host,
                    self._want_tls,
                    self._connections,
                    self._max_connections,
                    self._max_message,
                    self._clock,
                    self._evict_idle_after,
                    tls=self._tls_context,
                )
        except BaseException:
            await self._close_listeners()
            raise
        self._stopping.clear()
        self._flusher = asyncio.create_task(self._flush_loop(), name="syslog-flush")
        log.info(
            "syslog receiver listening: udp=%s tcp=%s tls=%s",
            self.udp_port,
            self.tcp_port,
            self.tls_port,
        )

    async def stop(self) -> None:
        """Close the listeners, let a running flush finish, then flush what is left."""
        await self._close_listeners()
        self._stopping.set()
        if self._flusher is not None:
            await self._flusher
            self._flusher = None
        await self.flush()

    def stats(self) -> SyslogStats:
        return self.counter.stats()

    async def flush(self) -> bool:
        """Hand the pending counts to the sink; ``False`` (counts kept) if the sink failed."""
        async with self._flush_lock:
            counts = self.counter.drain()
            if not counts:
                return True
            try:
                await self._sink(counts)
            except asyncio.CancelledError:
                self.counter.restore(counts)
                raise
            except Exception as exc:
                self.counter.restore(counts)
                log.error(
                    "syslog flush failed, %d minute counts kept for the next one: %s: %s",
                    len(counts),
                    type(exc).__name__,
                    exc,
                )
                return False
            return True

    async def _flush_loop(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.flush_interval)
            if self._stopping.is_set():
                return
            await self.flush()

    async def _close_listeners(self) -> None:
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        servers = [server for server in (self._tcp, self._tls) if server is not None]
        for server in servers:
            server.close()
        if servers:
            for connection in list(self._connections):
                connection.close()
        for server in servers:
            await server.wait_closed()
        self._tcp = self._tls = None
        await asyncio.sleep(0)  # let transports deliver their last data and close
