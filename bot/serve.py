"""``ddi-bot serve``: the Slack app in Socket Mode (SLACK_APP_TOKEN) or HTTP mode."""

from __future__ import annotations

import asyncio
import logging
import signal

import aiohttp
from aiohttp import web

from bot.errors import ConfigError
from bot.runtime import start_runtime
from bot.settings import Settings
from handlers.app import build_app, make_client, outbox_client
from handlers.messenger import SlackMessenger
from handlers.server import create_web_app
from handlers.slack_files import SlackFiles
from handlers.startup import check_bot_token, check_token_kinds

log = logging.getLogger(__name__)
STOP_GRACE_SECONDS = 20.0  # on SIGTERM, let running steps finish this long


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
    runtime = await start_runtime(settings, messenger, files=SlackFiles(client))
    bolt = build_app(runtime.engine, client, settings.slack_signing_secret or "")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        if settings.slack_app_token:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            handler = AsyncSocketModeHandler(bolt, settings.slack_app_token)
            await handler.connect_async()  # type: ignore[no-untyped-call]
            log.info("connected in Socket Mode")
            await stop.wait()
            await handler.close_async()  # type: ignore[no-untyped-call]
        else:
            runner = web.AppRunner(create_web_app(bolt), access_log=None)
            await runner.setup()
            await web.TCPSite(runner, host, port).start()
            log.info("HTTP mode: POST /slack/events, GET /healthz on %s:%d", host, port)
            await stop.wait()
            await runner.cleanup()
    finally:
        await runtime.stop(grace=STOP_GRACE_SECONDS)
    return 0
