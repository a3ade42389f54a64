"""``GET /healthz`` and ``GET /metrics``: served beside ``/slack/events`` in HTTP mode and, in
Socket Mode, on ``DDI_BOT_HEALTH_PORT``.

``/healthz`` answers 200 when the database answers, Slack accepts the bot token and (on
PostgreSQL) this replica's job worker runs, else 503 with what is wrong (a readiness check:
restarting the bot does not fix Slack or the database).
Slack is asked (``auth.test``) at most every ``SLACK_EVERY`` seconds, whatever the scrape rate.
``/metrics`` is Prometheus' text format (prometheus-client)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_sdk.web.async_client import AsyncWebClient

from bot import metrics
from bot.engine import Engine
from bot.syslog.counter import SyslogStats
from handlers.startup import ask_slack

SLACK_EVERY = 30.0  # seconds between two auth.test calls, at the least
DATABASE_WITHIN = 2.0  # seconds the database has to answer
SLACK_WITHIN = 5.0
OK = "ok"


class Health:
    def __init__(
        self,
        engine: Engine,
        client: AsyncWebClient,
        syslog: Callable[[], Awaitable[SyslogStats | None]] | None = None,
    ) -> None:
        self.engine = engine
        self.client = client
        self.syslog = syslog
        self._slack: tuple[float, str] | None = None  # (when, what Slack said)
        self._asking: asyncio.Lock = asyncio.Lock()

    async def database(self) -> str:
        try:
            async with asyncio.timeout(DATABASE_WITHIN):
                await self.engine.ping()
        except TimeoutError:
            return f"no answer within {DATABASE_WITHIN:g} s"
        except Exception as exc:  # whatever the driver raises: name it, never its URL
            return f"unavailable ({type(exc).__name__})"
        return OK

    async def slack(self) -> str:
        async with self._asking:  # scrapes at once: one auth.test
            known = self._slack
            if known is not None and time.monotonic() - known[0] < SLACK_EVERY:
                return known[1]
            said = str(await ask_slack(self.client, SLACK_WITHIN))
            self._slack = (time.monotonic(), said)
            return said

    def jobs(self) -> str | None:
        """PostgreSQL: whether this replica's job worker runs (None: no job queue)."""
        queue = self.engine.jobs
        if queue is None:
            return None
        return queue.worker_problem or OK

    async def healthz(self, _request: web.Request) -> web.Response:
        database, slack = await asyncio.gather(self.database(), self.slack())
        parts = {"database": database, "slack": slack}
        jobs = self.jobs()
        if jobs is not None:
            parts["jobs"] = jobs
        healthy = all(value == OK for value in parts.values())
        body = {"status": "ok" if healthy else "unhealthy", **parts}
        return web.json_response(body, status=200 if healthy else 503)

    async def metrics(self, _request: web.Request) -> web.Response:
        # the database down: the counters still tell what happened
        with contextlib.suppress(Exception):
            await self.engine.refresh_gauges()
        if self.syslog is not None:
            metrics.SYSLOG.stats = await self.syslog()
        return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/healthz", self.healthz), web.get("/metrics", self.metrics)]


def health_app(health: Health) -> web.Application:
    """The two routes alone (Socket Mode's health port)."""
    app = web.Application()
    app.add_routes(health.routes())
    return app
