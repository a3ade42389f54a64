"""The syslog receiver inside the bot: on its own thread and event loop, with its own database
engine, so that a burst of syslog never delays Slack's 3-second acknowledgements."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import threading
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.inventory import Inventory
from bot.networks import AddressFilter
from bot.syslog.counter import MinuteCount, SyslogStats
from bot.syslog.mapping import SyslogIndex
from bot.syslog.receiver import SyslogReceiver
from storage import syslog_counts, syslog_receivers
from storage.db import make_engine, make_sessions

log = logging.getLogger(__name__)


class SyslogService:
    def __init__(
        self,
        database_url: str,
        inventory: Inventory,
        *,
        host: str,
        udp_port: int | None,
        tcp_port: int | None,
        tls_port: int | None = None,
        tls: ssl.SSLContext | None = None,
        allow: AddressFilter | None = None,
        flush_interval: float = 10.0,
    ) -> None:
        self.database_url = database_url
        self.index = SyslogIndex((a.name, a.syslog_ids) for a in inventory.appliances)
        self.host, self.udp_port, self.tcp_port = host, udp_port, tcp_port
        self.tls_port, self._tls, self._allow = tls_port, tls, allow
        self.flush_interval = flush_interval
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._receiver: SyslogReceiver | None = None
        self.id = uuid.uuid4().hex  # this receiver, among every replica's (syslog_receivers)

    async def start(self) -> None:
        """Listen; raises (e.g. a port in use) before returning if the listeners cannot start."""
        self._thread = threading.Thread(target=self._run, name="syslog", daemon=True)
        self._thread.start()
        await asyncio.to_thread(self._ready.wait)
        if self._error is not None:
            raise self._error
        log.info(
            "syslog: listening on udp %s, tcp %s, tls %s",
            self.udp_port,
            self.tcp_port,
            self.tls_port,
        )

    async def stop(self, grace: float = 15.0) -> None:
        """Stop listening and store what was counted (a last flush)."""
        if self._loop is not None and self._stop is not None:
            with contextlib.suppress(RuntimeError):  # its loop already ended (it crashed)
                self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, grace)

    async def stats(self) -> SyslogStats | None:
        """The receiver's counters, read on its own thread (they are not thread-safe)."""
        receiver, loop = self._receiver, self._loop
        if receiver is None or loop is None:
            return None

        async def read() -> SyslogStats:
            return receiver.stats()

        try:
            future = asyncio.run_coroutine_threadsafe(read(), loop)
        except RuntimeError:
            return None
        return await asyncio.wrap_future(future)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported to start(), or logged once running
            if not self._ready.is_set():
                self._error = exc
            else:
                log.exception("syslog receiver stopped")
        finally:
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        db = make_engine(self.database_url)
        sessions = make_sessions(db)

        async def store(counts: Sequence[MinuteCount]) -> None:
            async with sessions.begin() as session:
                await syslog_counts.add(session, ((c.appliance, c.minute, c.count) for c in counts))

        try:
            receiver = SyslogReceiver(
                self.index,
                store,
                host=self.host,
                udp_port=self.udp_port,
                tcp_port=self.tcp_port,
                tls_port=self.tls_port,
                tls=self._tls,
                allow=self._allow,
                flush_interval=self.flush_interval,
            )
            async with receiver:
                self._receiver = receiver
                self.udp_port, self.tcp_port = receiver.udp_port, receiver.tcp_port
                self.tls_port = receiver.tls_port
                await self._say_listening(sessions, first=True)
                self._ready.set()
                await self._keep_saying(sessions)
        finally:
            await db.dispose()

    async def _keep_saying(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        """Until stopped: tell the database every HEARTBEAT seconds that this receiver still
        listens (silence is an answer only where some receiver listened all along)."""
        assert self._stop is not None
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(syslog_receivers.HEARTBEAT):
                    await self._stop.wait()
            await self._say_listening(sessions)

    async def _say_listening(
        self, sessions: async_sessionmaker[AsyncSession], first: bool = False
    ) -> None:
        now = datetime.now(UTC)
        try:
            async with sessions.begin() as session:
                if first:
                    await syslog_receivers.started(session, self.id, now)
                else:
                    await syslog_receivers.seen(session, self.id, now)
        except Exception as exc:  # the database restarting: the next beat tries again
            log.warning("syslog: could not record that the receiver listens: %s", exc)
