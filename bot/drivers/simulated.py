"""Driver for the built-in simulator, over HTTP(S) with httpx (demo and tests only).

The simulator's protocol is ours (see ``bot.simulator.server``), never a Trend Micro API.

Building a driver is cheap: the SSL contexts are shared per CA file (``shared_ssl_context``)
and, within one event loop, drivers of the same simulator URL and trust settings share one
``httpx.AsyncClient`` (each request names its appliance in its path). A shared client is
closed when the last driver using it is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import ssl
import threading
import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn
from urllib.parse import quote

import httpx

from bot.drivers.base import (
    CaptureExport,
    ConnectionTestResult,
    DebugBundle,
    DetectionCount,
    DriverContext,
)
from bot.errors import (
    ApplianceProtocolError,
    ApplianceTimeout,
    ApplianceTLSError,
    ApplianceUnreachable,
    ConfigError,
)
from bot.inventory import Appliance

_FILENAME = re.compile(r'filename="?([^";]+)"?')

# Both caches are touched from synchronous code only (driver construction and release), so one
# lock makes them safe for threads as well as for tasks of one loop.
_lock = threading.Lock()
_ca_contexts: dict[str, tuple[tuple[int, int, int], ssl.SSLContext]] = {}
_default_contexts: dict[tuple[str | None, str | None], ssl.SSLContext] = {}


def shared_ssl_context(ca_file: str | None) -> ssl.SSLContext:
    """The process-wide client SSL context that trusts ``ca_file``, or the CAs httpx trusts by
    default (``verify=True``: certifi, or ``SSL_CERT_FILE``/``SSL_CERT_DIR``) when ``None``.

    One context per CA file, made on first use and made again when the file changes (its
    modification time, size or inode); a file that cannot be loaded raises what
    ``ssl.create_default_context`` raises, and nothing is cached for it. Contexts are never
    modified after creation (httpcore only sets the same ALPN list on each connect), so sharing
    them between clients, loops and threads is safe.
    """
    if ca_file is None:
        env = (os.environ.get("SSL_CERT_FILE") or None, os.environ.get("SSL_CERT_DIR") or None)
        with _lock:
            context = _default_contexts.get(env)
            if context is None:
                context = _default_contexts[env] = httpx.create_ssl_context()
            return context
    try:
        info = os.stat(ca_file)
    except OSError:  # let ssl say what is wrong, in the words it always used
        return ssl.create_default_context(cafile=ca_file)
    stamp = (info.st_mtime_ns, info.st_size, info.st_ino)
    with _lock:
        cached = _ca_contexts.get(ca_file)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        context = ssl.create_default_context(cafile=ca_file)
        _ca_contexts[ca_file] = (stamp, context)
        return context


_ClientKey = tuple[str, ssl.SSLContext]  # simulator base URL (credentials included), trust


@dataclass
class _Shared:
    client: httpx.AsyncClient
    users: int = 0


_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[_ClientKey, _Shared]] = (
    weakref.WeakKeyDictionary()
)


def _new_client(
    base: str, verify: ssl.SSLContext, transport: httpx.AsyncBaseTransport | None
) -> httpx.AsyncClient:
    # the timeout goes with each request: drivers with different timeouts can share a client
    return httpx.AsyncClient(
        base_url=f"{base}/", verify=verify, transport=transport, follow_redirects=False
    )


class _Lease:
    """A driver's use of an ``httpx.AsyncClient``: its own, or one shared within its loop."""

    def __init__(
        self, base: str, verify: ssl.SSLContext, transport: httpx.AsyncBaseTransport | None
    ) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._key: _ClientKey = (base, verify)
        self._shared: _Shared | None = None
        if transport is None:  # a caller's transport is the caller's: never shared
            with contextlib.suppress(RuntimeError):  # outside a loop: nothing to share with
                self._loop = asyncio.get_running_loop()
        if self._loop is not None:
            with _lock:
                try:
                    per_loop = _clients.setdefault(self._loop, {})
                except TypeError:  # a loop without weak references: no sharing
                    self._loop = None
                else:
                    shared = per_loop.get(self._key)
                    if shared is None or shared.client.is_closed:
                        shared = per_loop[self._key] = _Shared(_new_client(base, verify, None))
                    shared.users += 1
                    self._shared = shared
        self.client = self._shared.client if self._shared else _new_client(base, verify, transport)

    async def release(self) -> None:
        shared = self._shared
        if shared is None:
            await self.client.aclose()
            return
        with _lock:
            shared.users -= 1
            if shared.users > 0:
                return
            per_loop = _clients.get(self._loop) if self._loop is not None else None
            if per_loop is not None and per_loop.get(self._key) is shared:
                del per_loop[self._key]
                if not per_loop and self._loop is not None:
                    del _clients[self._loop]
        await shared.client.aclose()


def _tls_cause(exc: BaseException) -> ssl.SSLError | None:
    """The ``ssl.SSLError`` somewhere in ``exc``'s cause/context chain, if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


class SimulatedDriver:
    """One simulated appliance, reached through the simulator's HTTP API."""

    def __init__(
        self,
        appliance: Appliance,
        context: DriverContext,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        base = appliance.simulator_url or context.simulator_url
        if not base:
            raise ConfigError(
                f"appliance {appliance.name!r} uses driver 'simulated' but no simulator URL is "
                "configured (set simulator_url in the inventory or run the embedded simulator)",
                appliance=appliance.name,
            )
        try:
            url = httpx.URL(base)
        except httpx.InvalidURL:
            url = httpx.URL()
        if url.scheme not in ("http", "https") or not url.host:
            raise ConfigError(  # the URL itself may carry credentials: do not echo it
                f"appliance {appliance.name!r}: the simulator URL is not an http(s) URL",
                appliance=appliance.name,
            )
        try:
            verify = shared_ssl_context(appliance.tls_ca_file or None)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"appliance {appliance.name!r}: cannot load CA file "
                f"{appliance.tls_ca_file!r}: {exc}",
                appliance=appliance.name,
            ) from exc
        self.appliance = appliance
        self._url = url
        self._timeout = context.timeout
        self._request_timeout = httpx.Timeout(context.timeout)
        self._prefix = f"api/v1/appliances/{quote(appliance.name, safe='')}/"
        self._lease = _Lease(base.rstrip("/"), verify, transport)
        self._client = self._lease.client
        self._closed = False

    @property
    def closed(self) -> bool:
        """Whether ``aclose`` was called (a ``DriverPool`` then builds a new driver)."""
        return self._closed

    async def _send(
        self, method: str, path: str, params: dict[str, str] | None = None
    ) -> httpx.Response:
        if self._closed:  # a shared client may still be open: refuse as a closed one would
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        return await self._client.request(
            method, self._prefix + path, params=params, timeout=self._request_timeout
        )

    def _where(self) -> str:
        # host and port only: a URL may carry credentials, which must never reach a message
        port = f":{self._url.port}" if self._url.port else ""
        return f"{self._url.scheme}://{self._url.host}{port}"

    def _fail(self, what: str, exc: httpx.HTTPError) -> NoReturn:
        name = self.appliance.name
        tls = _tls_cause(exc)
        if tls is not None:
            reason = getattr(tls, "reason", None) or type(tls).__name__
            raise ApplianceTLSError(
                f"{name}: {what}: TLS handshake with {self._where()} failed ({reason})",
                appliance=name,
            ) from exc
        if isinstance(exc, httpx.TimeoutException):
            raise ApplianceTimeout(
                f"{name}: {what}: no answer from {self._where()} within {self._timeout:g} s",
                appliance=name,
            ) from exc
        if isinstance(exc, httpx.ConnectError | httpx.RemoteProtocolError | httpx.NetworkError):
            raise ApplianceUnreachable(
                f"{name}: {what}: cannot connect to {self._where()} ({type(exc).__name__})",
                appliance=name,
            ) from exc
        raise ApplianceProtocolError(
            f"{name}: {what}: HTTP failure talking to {self._where()} ({type(exc).__name__})",
            appliance=name,
        ) from exc

    async def _request(
        self, method: str, path: str, what: str, params: dict[str, str] | None = None
    ) -> httpx.Response:
        try:
            response = await self._send(method, path, params)
        except httpx.HTTPError as exc:
            self._fail(what, exc)
        if not response.is_success:
            detail = ""
            try:
                body = response.json()
                if isinstance(body, dict) and isinstance(body.get("message"), str):
                    detail = f": {body['message'][:200]}"
            except ValueError:
                pass
            raise ApplianceProtocolError(
                f"{self.appliance.name}: {what}: simulator answered HTTP "
                f"{response.status_code}{detail}",
                appliance=self.appliance.name,
                status=response.status_code,
            )
        return response

    async def _json(
        self, method: str, path: str, what: str, params: dict[str, str] | None = None
    ) -> dict[str, Any]:
        response = await self._request(method, path, what, params)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ApplianceProtocolError(
                f"{self.appliance.name}: {what}: simulator answered something other than "
                "a JSON object",
                appliance=self.appliance.name,
            )
        return body

    def _bad(self, what: str, field: str) -> ApplianceProtocolError:
        return ApplianceProtocolError(
            f"{self.appliance.name}: {what}: missing or invalid {field!r} in the answer",
            appliance=self.appliance.name,
        )

    def _filename(self, response: httpx.Response, fallback: str) -> str:
        match = _FILENAME.search(response.headers.get("content-disposition", ""))
        name = match.group(1).replace("\\", "/").rsplit("/", 1)[-1] if match else ""
        return name or fallback

    async def test_connection(self) -> ConnectionTestResult:
        what = "connection test"
        body = await self._json("POST", "connection-test", what)
        verified, message = body.get("verified"), body.get("message")
        if not isinstance(verified, bool):
            raise self._bad(what, "verified")
        if not isinstance(message, str):
            raise self._bad(what, "message")
        return ConnectionTestResult(verified=verified, message=message)

    async def query_detections(self, start: datetime, end: datetime) -> DetectionCount:
        what = "detection log query"
        params = {"start": start.isoformat(), "end": end.isoformat()}
        count = (await self._json("GET", "detections", what, params)).get("count")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise self._bad(what, "count")
        return DetectionCount(count=count, period_start=start, period_end=end)

    async def capture(self, seconds: float) -> CaptureExport:
        try:
            await self._json("POST", "capture/start", "start packet capture")
        except ApplianceProtocolError as exc:
            if exc.params.get("status") != 409:
                raise
            # a capture left running by a process that stopped (a replica killed in this
            # step): stop it, and capture afresh
            await self._json("POST", "capture/stop", "stop a packet capture left running")
            await self._json("POST", "capture/start", "start packet capture")
        await asyncio.sleep(seconds)
        await self._json("POST", "capture/stop", "stop packet capture")
        response = await self._request("GET", "capture/export", "export packet capture")
        filename = self._filename(response, f"capture_{self.appliance.name}.zip")
        return CaptureExport(filename=filename, content=response.content)

    async def export_debug_logs(self) -> DebugBundle:
        response = await self._request("GET", "debug-logs", "export debug logs")
        filename = self._filename(response, f"debuglog_{self.appliance.name}.zip")
        return DebugBundle(filename=filename, content=response.content)

    async def reboot(self) -> None:
        await self._request("POST", "reboot", "reboot")

    async def is_up(self) -> bool:
        try:
            response = await self._send("GET", "status")
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            if _tls_cause(exc) is not None:
                self._fail("status", exc)
            return False
        except httpx.HTTPError as exc:
            self._fail("status", exc)
        if response.status_code == 503:
            return False
        if not response.is_success:
            raise ApplianceProtocolError(
                f"{self.appliance.name}: status: simulator answered HTTP {response.status_code}",
                appliance=self.appliance.name,
                status=response.status_code,
            )
        return True

    async def aclose(self) -> None:
        """Close the driver (idempotent); a shared client closes with its last driver."""
        if self._closed:
            return
        self._closed = True
        await self._lease.release()
