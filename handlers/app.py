"""The Bolt app: signed requests in, listeners registered, errors logged without secrets."""

from __future__ import annotations

import logging
from typing import Any, NamedTuple

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.engine import Engine, Foreground
from handlers import actions, alerts, commands, files, guided, home
from handlers.languages import Languages

log = logging.getLogger(__name__)


def make_client(token: str, base_url: str) -> AsyncWebClient:
    """Web API client for the listeners' own calls (ephemeral answers, modals, files):
    429s are retried after Retry-After and refused connections retried (the SDK's handlers
    are opt-in). Posts in case threads go through the outbox, with ``outbox_client``."""
    client = AsyncWebClient(token=token, base_url=base_url)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=5))
    client.retry_handlers.append(AsyncConnectionErrorRetryHandler(max_retry_count=2))
    return client


def outbox_client(
    token: str, base_url: str, timeout: float, session: aiohttp.ClientSession | None = None
) -> AsyncWebClient:
    """Web API client of the outbox: no retry handler at all (not even the SDK's default one
    for connection errors: a post Slack took and whose answer was lost would be posted twice;
    the outbox retries after looking for it), a timeout of its own, and with ``session`` one
    pool of connections for every call."""
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,  # type: ignore[arg-type]
        retry_handlers=[],
        session=session,
    )


class AnsweringApp(AsyncApp):
    """Every request, HTTP or Socket Mode, counts as being answered until it is acknowledged:
    meanwhile the engine's background work waits its turn (``Foreground``)."""

    def __init__(self, foreground: Foreground, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.foreground = foreground

    async def async_dispatch(self, req: AsyncBoltRequest) -> BoltResponse:
        with self.foreground.answering():
            return await super().async_dispatch(req)


class BuiltApp(NamedTuple):
    bolt: AnsweringApp
    home_tabs: home.HomeTabs  # its refresh loop is run by whoever serves the app


def build_app(engine: Engine, client: AsyncWebClient, signing_secret: str) -> BuiltApp:
    languages = Languages(client, engine.config.lang)  # each person's, from their locale
    tabs = home.HomeTabs(engine, client, languages)
    app = AnsweringApp(
        engine.foreground,
        client=client,
        signing_secret=signing_secret,
        process_before_response=False,
    )
    commands.register(app, engine, languages)
    actions.register(app, engine, languages)
    alerts.register(app, engine, languages)
    guided.register(app, engine, languages)
    files.register(app, engine)
    home.register(app, tabs)
    return BuiltApp(app, tabs)
