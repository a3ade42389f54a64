"""Driver for the built-in simulator, over HTTP(S) with httpx (demo and tests only).

The simulator's protocol is ours (see ``bot.simulator.server``), never a Trend Micro API.
"""

from __future__ import annotations

import asyncio
import re
import ssl
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
        verify: ssl.SSLContext | bool = True
        if appliance.tls_ca_file:
            try:
                verify = ssl.create_default_context(cafile=appliance.tls_ca_file)
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(
                    f"appliance {appliance.name!r}: cannot load CA file "
                    f"{appliance.tls_ca_file!r}: {exc}",
                    appliance=appliance.name,
                ) from exc
        self.appliance = appliance
        self._url = url
        self._timeout = context.timeout
        self._client = httpx.AsyncClient(
            base_url=f"{base.rstrip('/')}/api/v1/appliances/{quote(appliance.name, safe='')}/",
            timeout=httpx.Timeout(context.timeout),
            verify=verify,
            transport=transport,
            follow_redirects=False,
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
            response = await self._client.request(method, path, params=params)
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
            response = await self._client.get("status")
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
        await self._client.aclose()
