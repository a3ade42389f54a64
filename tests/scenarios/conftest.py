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
from fakeslack import (
    Call,
    FakeSlack,
    action_body,
    command_body,
    event_body,
    sign,
    view_submission_body,
)
from sqlalchemy import select
from tlsconsole import TlsConsole

from bot.inventory import Appliance, Inventory
from bot.runbook import Timing
from bot.runtime import Runtime, start_runtime
from bot.settings import Settings
from handlers.app import build_app, make_client, outbox_client
from handlers.groups import SlackGroups
from handlers.health import Health
from handlers.home import HomeTabs
from handlers.messenger import SlackMessenger
from handlers.server import create_web_app
from handlers.slack_files import SlackFiles
from storage.models import CaseRow

SECRET = "test-signing-secret"
OPERATOR = "U0OPERATOR"
APPROVER = "U0APPROVER"
APPROVER_GROUP = "S0ONCALL"  # a Slack user group listed in DDI_BOT_APPROVERS
GROUP_MEMBER = "U0ONCALL"  # one of its members (fakeslack answers usergroups.users.list)
CHANNEL = "C0OPS"

FLEET = Inventory(
    (
        Appliance(name="ddi-tokyo-1", driver="simulated", scenario="tmsp-down"),
        Appliance(name="ddi-osaka-2", driver="simulated", scenario="no-traffic"),
        Appliance(name="ddi-nagoya-3", driver="simulated", scenario="quiet"),
        Appliance(name="ddi-sapporo-4", driver="simulated", scenario="unreachable"),
        Appliance(name="ddi-<b>&evil", driver="simulated", scenario="healthy"),
        Appliance(name="ddi-acme-6", driver="acme-console"),
    )
)
GUIDED = "ddi-kobe-5"  # its console is a local TLS server (Harness.console)


async def wait_for(
    predicate: Callable[[], Any], limit: float = 20.0, what: str = "condition met"
) -> Any:
    """``predicate()``'s first true value, looked for every 50 ms for ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"not in time: {what}")


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
    console: TlsConsole
    home: HomeTabs | None = None  # the app's Home tabs (their refresh is called by tests)

    async def event(self, event: dict[str, Any], event_id: str) -> httpx.Response:
        """An Events API callback, signed like Slack signs it."""
        body = event_body(event, event_id)
        headers = {**sign(SECRET, body), "Content-Type": "application/json"}
        return await self.send(body, headers)

    async def submit(
        self, view: dict[str, Any], values: dict[str, Any], user: str = OPERATOR
    ) -> httpx.Response:
        return await self.send(view_submission_body(view, user, values))

    async def post_file(
        self,
        name: str,
        content: bytes,
        thread_ts: str | None,
        user: str = OPERATOR,
        size: int | None = None,
        events: tuple[str, ...] = ("file_shared", "message"),
    ) -> str:
        """A person posts a file; Slack announces it with both events (in the given order)."""
        file_id = self.slack.add_file(
            name, content, channel=CHANNEL, thread_ts=thread_ts, user=user, size=size
        )
        for kind in events:
            if kind == "file_shared":
                event: dict[str, Any] = {
                    "type": "file_shared",
                    "file_id": file_id,
                    "file": {"id": file_id},
                    "user_id": user,
                    "channel_id": CHANNEL,
                    "event_ts": str(time.time()),
                }
            else:
                event = {
                    "type": "message",
                    "subtype": "file_share",
                    "channel": CHANNEL,
                    "user": user,
                    "text": "",
                    "ts": str(time.time()),
                    "files": [{"id": file_id, "name": name}],
                    **({"thread_ts": thread_ts} if thread_ts else {}),
                }
            response = await self.event(event, f"Ev{file_id}{kind}")
            assert response.status_code == 200
        return file_id

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
        return await wait_for(predicate, limit)

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

    async def case_count(self) -> int:
        async with self.runtime.engine.sessions() as session:
            return len(list((await session.execute(select(CaseRow))).scalars()))

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
                await self.runtime.engine.quiesce()
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
async def harness(tmp_path: Path, self_signed: tuple[Path, Path]) -> AsyncIterator[Harness]:
    console = TlsConsole(*self_signed)
    await console.start()
    fleet = Inventory(
        (
            *FLEET.appliances,
            Appliance(name=GUIDED, console=console.address, capture_interface="eth1", site="kobe"),
        )
    )
    slack = FakeSlack(usergroups={APPROVER_GROUP: [GROUP_MEMBER]})
    slack.url, slack_runner = await _serve(slack.app())
    settings = replace(
        Settings(),
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        approvers=frozenset({APPROVER, APPROVER_GROUP}),
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SECRET,
        slack_api_url=f"{slack.url}/api/",
        appliance_timeout=0.5,
        capture_seconds=0.05,
        posts_per_second=50.0,  # tests run many messages through one channel
    )
    client = make_client("xoxb-test-token", settings.slack_api_url)
    messenger = SlackMessenger(outbox_client("xoxb-test-token", settings.slack_api_url, 1.0))
    runtime = await start_runtime(
        settings,
        messenger,
        inventory=fleet,
        timing=Timing(
            recheck_delay=3600.0, poll_interval=0.2, reboot_timeout=15.0, reboot_grace=1.0
        ),
        simulator_reboot_seconds=0.5,
        artifacts=tmp_path / "artifacts",
        timer_poll=0.1,
        files=SlackFiles(client),
        groups=SlackGroups(client),
    )
    bolt, home_tabs = build_app(runtime.engine, client, SECRET)
    health = Health(runtime.engine, client)
    url, app_runner = await _serve(create_web_app(bolt, health))
    async with httpx.AsyncClient(timeout=10) as http:
        yield Harness(slack, runtime, url, http, console, home_tabs)
    await app_runner.cleanup()
    await console.stop()
    await runtime.stop(drain=False)
    await slack_runner.cleanup()
