"""Stand-ins for what a sensor talks to: its HTTPS console (answers TLS handshakes while it is
up) and a portal (TMSP) server reached as a plain TCP service."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path


class Listener:
    """A local TCP server, TLS when it has a context, that can be stopped and started again
    on the same port."""

    def __init__(self, context: ssl.SSLContext | None = None) -> None:
        self.context = context
        self.port = 0
        self.server: asyncio.Server | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    async def start(self) -> None:
        self.server = await asyncio.start_server(
            self._serve, "127.0.0.1", self.port, ssl=self.context
        )
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None


class TlsConsole(Listener):
    def __init__(self, cert: Path, key: Path) -> None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        super().__init__(context)
        self.cert = cert


class Portal(Listener):
    """A TMSP server behind a plain TCP port: accepts, says a banner, hangs up."""

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"SSH-2.0-portal\r\n")
        await writer.drain()
        writer.close()
