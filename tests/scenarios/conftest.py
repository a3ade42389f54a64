"""The whole app on real sockets: the Bolt app over HTTP, a Slack-like API, the simulator."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from fakeslack import Call, FakeSlack, action_body, command_body, sign
from sqlalchemy import select

from bot.inventory import Appliance, Inventory
from bot.runbook import Timing
from bot.runtime import Runtime, start_runtime
from bot.settings import Settings
from handlers.app import build_app, make_client
from handlers.notifier import SlackNotifier
from handlers.server import create_web_app
from storage.models import CaseRow

SECRET = "test-signing-secret"
OPERATOR = "U0OPERATOR"
APPROVER = "U0APPROVER"
CHANNEL = "C0OPS"

FLEET = Inventory(
    (
        Appliance(name="ddi-tokyo-1", driver="simulated", scenario="tmsp-down"),
        Appliance(name="ddi-osaka-2", driver="simulated", scenario="no-traffic"),
        Appliance(name="ddi-nagoya-3", driver="simulated", scenario="quiet"),
        Appliance(name="ddi-sapporo-4", driver="simulated", scenario="unreachable"),
        Appliance(name="ddi-<b>&evil", driver="simulated", scenario="healthy"),
        Appliance(name="ddi-kobe-5", driver="guided", console="192.0.2.10:443"),
    )
)


async def _serve(app: web.Application) -> tuple[str, web.AppRunner]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return f"http://{host}:{port}", runner


@dataclass
class Harness:
    slack: FakeSlack
    runtime: Runtime
    url: str
    http: httpx.AsyncClient

    async def send(self, body: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return await self.http.post(
            f"{self.url}/slack/events", content=body, headers=headers or sign(SECRET, body)
        )

    async def command(self, text: str, user: str = OPERATOR) -> httpx.Response:
        body = command_body(text, user, CHANNEL, f"{self.slack.url}/respond/1")
        return await self.send(body)

    async def click(self, prompt: Call, label_word: str, user: str = OPERATOR) -> httpx.Response:
        button = self.button(prompt, label_word)
        action = {k: button[k] for k in ("action_id", "value")}
        action["block_id"] = prompt.args["blocks"][-1]["block_id"]
        body = action_body(
            action,
            user,
            CHANNEL,
            prompt.ts,
            prompt.args["thread_ts"],
            f"{self.slack.url}/respond/2",
        )
        return await self.send(body)

    @staticmethod
    def button(prompt: Call, label_word: str) -> dict[str, Any]:
        for block in prompt.args["blocks"]:
            for element in block.get("elements", []):
                if label_word in element["text"]["text"]:
                    return dict(element)
        raise AssertionError(f"no button with {label_word!r} in {prompt.args['text']!r}")

    async def wait_for(self, predicate: Callable[[], Any], limit: float = 20.0) -> Any:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            await asyncio.sleep(0.05)
        raise AssertionError("condition not met in time")

    async def prompt(self, word: str, count: int = 1) -> Call:
        """Wait for the ``count``-th question that has a button containing ``word``."""

        def find() -> Call | None:
            found = [
                p
                for p in self.slack.prompts()
                if any(
                    word in e["text"]["text"]
                    for b in p.args["blocks"]
                    for e in b.get("elements", [])
                )
            ]
            return found[count - 1] if len(found) >= count else None

        result: Call = await self.wait_for(find)
        return result

    async def case(self, appliance: str) -> CaseRow:
        async with self.runtime.engine.sessions() as session:
            rows = (
                await session.execute(
                    select(CaseRow).where(CaseRow.appliance == appliance).order_by(CaseRow.id)
                )
            ).scalars()
            return list(rows)[-1]

    async def wait_closed(self, appliance: str) -> CaseRow:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            row = await self.case(appliance)
            if row.open_key is None:
                await self.runtime.engine.tasks.drain()
                return row
            await asyncio.sleep(0.05)
        raise AssertionError(f"case for {appliance} did not close")

    async def reboots(self, appliance: str) -> int:
        sim = self.runtime.simulator
        assert sim is not None
        response = await self.http.get(f"{sim.url}/api/v1/appliances")
        for entry in response.json()["appliances"]:
            if entry["name"] == appliance:
                return int(entry["reboots"])
        raise AssertionError(appliance)

    def root(self, appliance: str) -> Call:
        return next(
            c
            for c in self.slack.posts()
            if appliance in c.args["text"] and "thread_ts" not in c.args
        )


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    slack = FakeSlack()
    slack.url, slack_runner = await _serve(slack.app())
    settings = replace(
        Settings(),
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        approvers=frozenset({APPROVER}),
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SECRET,
        slack_api_url=f"{slack.url}/api/",
        appliance_timeout=0.5,
        capture_seconds=0.05,
    )
    client = make_client("xoxb-test-token", settings.slack_api_url)
    runtime = await start_runtime(
        settings,
        SlackNotifier(client),
        inventory=FLEET,
        timing=Timing(recheck_delay=3600.0, poll_interval=0.2, reboot_timeout=15.0),
        simulator_reboot_seconds=0.5,
        artifacts=tmp_path / "artifacts",
        timer_poll=0.1,
    )
    bolt = build_app(runtime.engine, client, SECRET)
    url, app_runner = await _serve(create_web_app(bolt))
    async with httpx.AsyncClient(timeout=10) as http:
        yield Harness(slack, runtime, url, http)
    await app_runner.cleanup()
    await runtime.stop(drain=False)
    await slack_runner.cleanup()
