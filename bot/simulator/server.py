"""HTTP server of the built-in appliance simulator.

This protocol is OURS, made up for the demo and the tests. It is NOT a Trend Micro API: no public
API runs these steps on a real Deep Discovery Inspector. JSON under ``/api/v1``:

- ``GET  /healthz`` → ``{"ok": true}``
- ``GET  /api/v1/appliances`` → ``{"appliances": [{"name", "scenario", "state", "reboots"}]}``
- under ``/api/v1/appliances/{name}/``:
  - ``POST connection-test`` → ``{"verified": bool, "message": str}``
  - ``GET  detections?start=ISO&end=ISO`` → ``{"count": int}`` (400 if the period is invalid)
  - ``POST capture/start``, ``POST capture/stop`` → ``{"capturing": bool}`` (409 if out of order)
  - ``GET  capture/export`` → zip bytes + ``Content-Disposition`` filename
    (409 unless a capture was stopped)
  - ``GET  debug-logs`` → zip of text logs and a configuration export + ``Content-Disposition``
  - ``POST reboot`` → 202; then every request to this appliance answers 503 for
    ``reboot_seconds``
  - ``GET  status`` → ``{"state": "up", "reboots": N, "scenario": str}``, 503 while rebooting
  - ``POST _control`` with ``{"scenario": str}`` → TEST ONLY: switch the appliance's scenario
Errors are ``{"error": code, "message": str}``; an unknown appliance is 404. Scenario
``unreachable`` never answers (requests hang until the client gives up), except ``_control``.
"""

from __future__ import annotations

import asyncio
import io
import json
import ssl
import time
import zipfile
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import NamedTuple

from aiohttp import web

from bot.inventory import Appliance
from bot.simulator.pcapgen import simulated_capture
from bot.simulator.scenarios import BEHAVIOURS, SimulatedAppliance

Handler = Callable[[web.Request, SimulatedAppliance], Awaitable[web.StreamResponse]]
_FLEET = web.AppKey("fleet", dict[str, SimulatedAppliance])
_STOPPING = web.AppKey("stopping", asyncio.Event)
_REBOOT_SECONDS = web.AppKey("reboot_seconds", float)


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status)


def _zip_response(filename: str, content: bytes) -> web.Response:
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return web.Response(body=content, content_type="application/zip", headers=headers)


def _route(
    handler: Handler, *, control: bool = False
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Resolve the appliance, then simulate hanging, rebooting, or call ``handler``."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        appliance = request.app[_FLEET].get(name)
        if appliance is None:
            return _error(404, "unknown_appliance", f"no simulated appliance named {name!r}")
        if not control:
            if not appliance.behaviour.answers:
                await request.app[_STOPPING].wait()  # hang until the server shuts down
                return _error(503, "stopping", "simulator is shutting down")
            if appliance.is_rebooting(time.monotonic()):
                return _error(503, "rebooting", f"{name} is rebooting")
        return await handler(request, appliance)

    return wrapped


@web.middleware
async def _json_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Unknown paths and wrong methods answer JSON too, like every other error."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = exc.reason.lower().replace(" ", "_")
        return _error(exc.status, code, f"{request.method} {request.path}: {exc.reason}")


async def _connection_test(request: web.Request, a: SimulatedAppliance) -> web.Response:
    verified, message = a.connection_test()
    return web.json_response({"verified": verified, "message": message})


async def _detections(request: web.Request, a: SimulatedAppliance) -> web.Response:
    try:
        start = datetime.fromisoformat(request.query["start"])
        end = datetime.fromisoformat(request.query["end"])
        if end < start:
            raise ValueError("end before start")
    except (KeyError, ValueError, TypeError) as exc:
        return _error(400, "bad_period", f"start and end must be ISO 8601, start <= end: {exc}")
    return web.json_response({"count": a.detection_count(start, end)})


async def _capture_start(request: web.Request, a: SimulatedAppliance) -> web.Response:
    if not a.start_capture(time.time()):
        return _error(409, "capture_running", f"a capture is already running on {a.name}")
    return web.json_response({"capturing": True})


async def _capture_stop(request: web.Request, a: SimulatedAppliance) -> web.Response:
    if not a.stop_capture(time.time()):
        return _error(409, "no_capture", f"no capture is running on {a.name}")
    return web.json_response({"capturing": False})


async def _capture_export(request: web.Request, a: SimulatedAppliance) -> web.Response:
    if a.capture_started is None or a.capture_stopped is None:
        return _error(409, "no_capture", f"no stopped capture to export on {a.name}")
    filename, content = await asyncio.to_thread(
        simulated_capture, a.capture_started, a.capture_stopped, a.behaviour.traffic
    )
    return _zip_response(filename, content)


def _debug_bundle(a: SimulatedAppliance) -> tuple[str, bytes]:
    stamp = time.strftime("%Y%m%d_%H%M%S")
    verified, message = a.connection_test()
    logs = {
        "debug/system.log": f"{stamp} simulated sensor {a.name} up; reboots={a.reboots}\n",
        "debug/tmsp.log": f"{stamp} TMSP connection test: {message}\n",
        "debug/capture.log": f"{stamp} eth1 traffic seen: {a.behaviour.traffic}\n",
        "config/configuration.json": json.dumps(
            {"hostname": a.name, "capture_interface": "eth1", "tmsp_verified": verified}, indent=2
        ),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, text in logs.items():
            archive.writestr(path, text)
    return f"debuglog_{a.name}_{stamp}.zip", buffer.getvalue()


async def _debug_logs(request: web.Request, a: SimulatedAppliance) -> web.Response:
    return _zip_response(*_debug_bundle(a))


async def _reboot(request: web.Request, a: SimulatedAppliance) -> web.Response:
    a.start_reboot(time.monotonic(), request.app[_REBOOT_SECONDS])
    return web.json_response({"rebooting": True, "reboots": a.reboots}, status=202)


async def _status(request: web.Request, a: SimulatedAppliance) -> web.Response:
    return web.json_response({"state": "up", "reboots": a.reboots, "scenario": a.scenario})


async def _control(request: web.Request, a: SimulatedAppliance) -> web.Response:
    try:
        scenario = (await request.json())["scenario"]
    except (ValueError, KeyError, TypeError):
        return _error(400, "bad_request", 'expected JSON {"scenario": "..."}')
    if not isinstance(scenario, str) or scenario not in BEHAVIOURS:
        return _error(400, "unknown_scenario", f"unknown scenario {scenario!r}")
    a.scenario = scenario
    return web.json_response({"name": a.name, "scenario": a.scenario, "reboots": a.reboots})


async def _list(request: web.Request) -> web.Response:
    now = time.monotonic()
    listing = [
        {
            "name": a.name,
            "scenario": a.scenario,
            "reboots": a.reboots,
            "state": "rebooting" if a.is_rebooting(now) else "up",
        }
        for a in request.app[_FLEET].values()
    ]
    return web.json_response({"appliances": listing})


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def create_app(
    appliances: Iterable[Appliance | tuple[str, str]], reboot_seconds: float = 2.0
) -> web.Application:
    """A simulator serving ``appliances`` (inventory entries or ``(name, scenario)`` pairs)."""
    fleet: dict[str, SimulatedAppliance] = {}
    for item in appliances:
        name, scenario = (
            (item.name, item.scenario or "healthy") if isinstance(item, Appliance) else item
        )
        if scenario not in BEHAVIOURS:
            raise ValueError(f"simulated appliance {name!r}: unknown scenario {scenario!r}")
        fleet[name] = SimulatedAppliance(name=name, scenario=scenario)
    app = web.Application(middlewares=[_json_errors])
    app[_FLEET], app[_STOPPING], app[_REBOOT_SECONDS] = fleet, asyncio.Event(), reboot_seconds

    async def on_shutdown(app: web.Application) -> None:
        app[_STOPPING].set()

    app.on_shutdown.append(on_shutdown)
    base = "/api/v1/appliances/{name}/"
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/api/v1/appliances", _list)
    app.router.add_post(base + "connection-test", _route(_connection_test))
    app.router.add_get(base + "detections", _route(_detections))
    app.router.add_post(base + "capture/start", _route(_capture_start))
    app.router.add_post(base + "capture/stop", _route(_capture_stop))
    app.router.add_get(base + "capture/export", _route(_capture_export))
    app.router.add_get(base + "debug-logs", _route(_debug_logs))
    app.router.add_post(base + "reboot", _route(_reboot))
    app.router.add_get(base + "status", _route(_status))
    app.router.add_post(base + "_control", _route(_control, control=True))
    return app


class SimulatorHandle(NamedTuple):
    """A running simulator: its base URL and the coroutine function that stops it."""

    url: str
    stop: Callable[[], Awaitable[None]]


async def start_simulator(
    app: web.Application,
    host: str = "127.0.0.1",
    port: int = 0,
    ssl_context: ssl.SSLContext | None = None,
) -> SimulatorHandle:
    """Serve ``app`` on ``host:port`` (0 picks a free port) and return its URL and stopper."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port, ssl_context=ssl_context)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound_host, bound_port = runner.addresses[0][:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    scheme = "https" if ssl_context is not None else "http"
    return SimulatorHandle(f"{scheme}://{shown}:{bound_port}", runner.cleanup)
