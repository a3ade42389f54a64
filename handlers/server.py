"""HTTP mode: POST /slack/events (signed by Slack), GET /healthz and GET /metrics, on aiohttp."""

from __future__ import annotations

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from handlers.health import Health

MAX_BODY = 1024 * 1024  # Slack payloads are small; refuse anything huge before parsing


def create_web_app(bolt: AsyncApp, health: Health) -> web.Application:
    async def events(request: web.Request) -> web.Response:
        bolt_request = await to_bolt_request(request)
        bolt_response = await bolt.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post("/slack/events", events)
    app.add_routes(health.routes())
    return app
