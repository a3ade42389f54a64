"""``ddi-bot serve``: the Slack app in Socket Mode (SLACK_APP_TOKEN) or HTTP mode."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp

from bot.errors import ConfigError
from bot.runtime import start_runtime
from bot.settings import Settings
from handlers.app import build_app, make_client, outbox_client
from handlers.groups import SlackGroups
from handlers.health import Health, health_app
from handlers.messenger import SlackMessenger
from handlers.server import create_web_app
from handlers.slack_files import SlackFiles
from handlers.startup import check_bot_token, check_token_kinds

log = logging.getLogger(__name__)
# on SIGTERM, let running steps finish this long (what is cut short resumes at the next start):
# the whole stop stays within the 10 s a container runtime waits before it kills
STOP_GRACE_SECONDS = 5.0
SOCKET_CLOSE_SECONDS = 2.0
HEALTH_SLACK_TIMEOUT = 5.0  # seconds for /healthz's auth.test


async def serve(settings: Settings, host: str, port: int) -> int:
    if not settings.slack_bot_token:
        raise ConfigError("SLACK_BOT_TOKEN is not set (try 'ddi-bot demo' to run without Slack)")
    if not settings.slack_app_token and not settings.slack_signing_secret:
        raise ConfigError("set SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode)")
    if not settings.approvers:
        log.warning("DDI_BOT_APPROVERS is empty: nobody can approve a reboot")
    async with aiohttp.ClientSession() as http:  # the outbox's calls share its connections
        return await _serve(settings, host, port, http)


async def _serve(settings: Settings, host: str, port: int, http: aiohttp.ClientSession) -> int:
    assert settings.slack_bot_token is not None
    check_token_kinds(settings.slack_bot_token, settings.slack_app_token)
    client = make_client(settings.slack_bot_token, settings.slack_api_url)
    await check_bot_token(client)  # before anything starts: a refused token stops here
    token, api = settings.slack_bot_token, settings.slack_api_url
    messenger = SlackMessenger(outbox_client(token, api, settings.slack_timeout, http))
    runtime = await start_runtime(
        settings, messenger, files=SlackFiles(client), groups=SlackGroups(client)
    )
    # what start-up loaded (SQLAlchemy, scapy, matplotlib, procrastinate: a large heap) is
    # kept out of the collector's full passes, which otherwise stall the loop for ~80 ms
    # when one falls in a burst of /ddi-check (fleet_sweep.py: ack p50 157 -> 82 ms)
    gc.collect()
    gc.freeze()
    bolt, home_tabs = build_app(runtime.engine, client, settings.slack_signing_secret or "")
    refresh = home_tabs.refresh_forever()
    runtime.loops.append(asyncio.create_task(refresh, name="app-home"))  # stopped with them
    health = Health(
        runtime.engine,
        outbox_client(token, api, HEALTH_SLACK_TIMEOUT, http),
        runtime.syslog.stats if runtime.syslog is not None else None,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runners: list[web.AppRunner] = []
    try:
        if settings.slack_app_token:
            if settings.health_port is not None:
                runners.append(await _listen(health_app(health), host, settings.health_port))
                log.info("GET /healthz, GET /metrics on %s:%d", host, settings.health_port)
            await _socket_mode(bolt, settings.slack_app_token, stop)
        else:
            runners.append(await _listen(create_web_app(bolt, health), host, port))
            log.info("HTTP mode: POST /slack/events, GET /healthz, /metrics on %s:%d", host, port)
            await stop.wait()
    finally:
        for runner in runners:
            await runner.cleanup()
        await runtime.stop(grace=STOP_GRACE_SECONDS)
    return 0


async def _listen(app: web.Application, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return runner


class _OneLine(logging.Filter):
    """Socket Mode's connection retries while Slack is unreachable: one warning line each,
    not a traceback every few seconds."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info or record.levelno > logging.WARNING:
            record.msg, record.args = record.getMessage(), None
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


async def _socket_mode(bolt: AsyncApp, app_token: str, stop: asyncio.Event) -> None:
    """Connect (Slack may be unreachable: the client retries) and serve until ``stop``; a
    stop while still connecting is honoured at once."""
    quiet = logging.getLogger("bot.serve.socket_mode")
    quiet.addFilter(_OneLine())
    handler = AsyncSocketModeHandler(bolt, app_token, logger=quiet)
    connecting = asyncio.create_task(handler.connect_async(), name="socket-mode")  # type: ignore[no-untyped-call]
    stopping = asyncio.create_task(stop.wait(), name="stop")
    try:
        done, _ = await asyncio.wait({connecting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if connecting in done:
            connecting.result()
            log.info("connected in Socket Mode")
            await stopping
    finally:
        for task in (connecting, stopping):
            task.cancel()
        await asyncio.gather(connecting, stopping, return_exceptions=True)
        with contextlib.suppress(Exception):
            async with asyncio.timeout(SOCKET_CLOSE_SECONDS):
                await handler.close_async()  # type: ignore[no-untyped-call]
