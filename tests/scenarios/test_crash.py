"""kill -9 of a real ``ddi-bot serve``: right after a /ddi-check is acknowledged, while steps
run, around the reboot. After a restart every case completes, no message is posted twice, and
no approval reboots the sensor more than once. Slack (a local Slack-like server) and the
simulator (in this process) live on while the bot dies."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from conftest import wait_for
from fakeslack import Call, FakeSlack, action_body, command_body, sign

from bot.simulator.server import SimulatorHandle, create_app, start_simulator

SECRET = "crash-secret"
APPROVER = "U0APPROVER"
CHANNEL = "C0CRASH"
SENSORS = (("ddi-tokyo", "tmsp-down"), ("ddi-nagoya", "quiet"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Bot:
    """``ddi-bot serve`` in HTTP mode, started again after every kill with the same database."""

    tmp: Path
    slack: FakeSlack
    simulator: SimulatorHandle
    http: httpx.AsyncClient
    port: int = 0
    proc: asyncio.subprocess.Process | None = None
    database_url: str = ""  # default: a SQLite file in tmp
    settings: dict[str, str] = field(default_factory=dict)  # more DDI_BOT_ settings

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        inventory = self.tmp / "inventory.yml"
        inventory.write_text(
            "appliances:\n"
            + "".join(
                f"  - name: {name}\n    driver: simulated\n    scenario: {scenario}\n"
                f"    simulator_url: {self.simulator.url}\n"
                for name, scenario in SENSORS
            ),
            encoding="utf-8",
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DDI_BOT_"))}
        env.update(
            SLACK_BOT_TOKEN="xoxb-crash",
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=f"{self.slack.url}/api/",
            DDI_BOT_DATABASE_URL=self.database_url or f"sqlite+aiosqlite:///{self.tmp}/bot.db",
            DDI_BOT_INVENTORY=str(inventory),
            DDI_BOT_APPROVERS=APPROVER,
            DDI_BOT_APPLIANCE_TIMEOUT="2",
            DDI_BOT_CAPTURE_SECONDS="0.05",
            DDI_BOT_REBOOT_POLL_SECONDS="0.1",
            DDI_BOT_SLACK_POSTS_PER_SECOND="50",
            DDI_BOT_SLACK_TIMEOUT="2",
        )
        env.update(self.settings)
        self.port = _free_port()
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(self.port),
            env=env, cwd=self.tmp, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        for _ in range(300):
            try:
                await self.http.get(f"{self.url}/healthz")
                return
            except httpx.TransportError:
                await asyncio.sleep(0.05)
        raise AssertionError("ddi-bot serve did not start")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)

    async def reap(self) -> None:
        assert self.proc is not None
        await asyncio.wait_for(self.proc.communicate(), timeout=30)

    async def stop(self) -> str:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(self.proc.communicate(), timeout=60)
        return err.decode()

    async def command(self, text: str) -> httpx.Response:
        body = command_body(text, "U0OPERATOR", CHANNEL, f"{self.slack.url}/respond/1")
        return await self.http.post(f"{self.url}/slack/events", content=body,
                                    headers=sign(SECRET, body))  # fmt: skip

    async def click(self, prompt: Call, word: str, user: str = "U0OPERATOR") -> httpx.Response:
        button = next(
            e for b in prompt.args["blocks"] for e in b.get("elements", [])
            if word in e["text"]["text"]
        )  # fmt: skip
        action = {"action_id": button["action_id"], "value": button["value"],
                  "block_id": prompt.args["blocks"][-1]["block_id"]}  # fmt: skip
        body = action_body(action, user, CHANNEL, prompt.ts, prompt.args["thread_ts"],
                           f"{self.slack.url}/respond/2")  # fmt: skip
        return await self.http.post(f"{self.url}/slack/events", content=body,
                                    headers=sign(SECRET, body))  # fmt: skip

    async def reboots(self, name: str) -> int:
        listing = (await self.http.get(f"{self.simulator.url}/api/v1/appliances")).json()
        return next(int(a["reboots"]) for a in listing["appliances"] if a["name"] == name)


async def _until(predicate: Callable[[], Any], what: str, limit: float = 45.0) -> Any:
    return await wait_for(predicate, limit, what)


def _roots(slack: FakeSlack, name: str) -> list[Call]:
    return [c for c in slack.posts() if "thread_ts" not in c.args and name in c.args["text"]]


def _prompt(slack: FakeSlack, word: str, count: int = 1) -> Call | None:
    found = [
        p for p in slack.prompts()
        if any(word in e["text"]["text"] for b in p.args["blocks"] for e in b.get("elements", []))
    ]  # fmt: skip
    return found[count - 1] if len(found) >= count else None


def _posted_once(slack: FakeSlack) -> None:
    """No message is in Slack twice (the same text in the same thread)."""
    seen = [(c.args.get("thread_ts"), c.args["text"]) for c in slack.posts()]
    twice = {m for m in seen if seen.count(m) > 1}
    assert not twice, twice


@contextlib.asynccontextmanager
async def slack_and_sensors() -> AsyncIterator[tuple[FakeSlack, SimulatorHandle]]:
    """The Slack-like server and the simulated sensors, in this process: they live on while
    the bots die."""
    slack = FakeSlack()
    runner = web.AppRunner(slack.app())
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    slack.url = f"http://{host}:{port}"
    simulator = await start_simulator(create_app(list(SENSORS), reboot_seconds=0.5))
    try:
        yield slack, simulator
    finally:
        await simulator.stop()
        await runner.cleanup()


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Bot]:
    async with slack_and_sensors() as (slack, simulator), httpx.AsyncClient(timeout=10) as http:
        bot = Bot(tmp_path, slack, simulator, http)
        try:
            yield bot
        finally:
            if bot.proc is not None and bot.proc.returncode is None:
                await bot.stop()


async def test_a_check_acknowledged_just_before_a_crash_still_runs(bot: Bot) -> None:
    await bot.start()
    ack = await bot.command("ddi-tokyo")
    bot.kill()  # the person was told "opening…": the case must exist
    assert ack.status_code == 200 and "Opening a check of `ddi-tokyo`" in ack.text
    await bot.reap()
    await bot.start()
    question = await _until(lambda: _prompt(bot.slack, "Skip"), "the first question")
    assert len(_roots(bot.slack, "ddi-tokyo")) == 1
    assert question.args["thread_ts"] == _roots(bot.slack, "ddi-tokyo")[0].ts
    _posted_once(bot.slack)


async def test_a_crash_while_steps_run_loses_nothing_and_repeats_nothing(bot: Bot) -> None:
    await bot.start()
    await bot.command("ddi-nagoya")
    await bot.command("ddi-tokyo")
    await _until(lambda: any("Step 1" in c.args["text"] for c in bot.slack.posts()), "step 1")
    bot.kill()
    await bot.reap()
    await bot.start()
    await _until(lambda: _prompt(bot.slack, "Quiet"), "nagoya's question")
    await _until(lambda: _prompt(bot.slack, "Skip"), "tokyo's question")
    assert len(_roots(bot.slack, "ddi-nagoya")) == 1 and len(_roots(bot.slack, "ddi-tokyo")) == 1
    _posted_once(bot.slack)


async def test_a_crash_around_the_reboot_never_reboots_twice_for_one_approval(bot: Bot) -> None:
    await bot.start()
    await bot.command("ddi-tokyo")
    await bot.click(await _until(lambda: _prompt(bot.slack, "Skip"), "step 4"), "Skip")
    approval = await _until(lambda: _prompt(bot.slack, "Approve reboot"), "the approval")
    assert (await bot.click(approval, "Approve reboot", user=APPROVER)).status_code == 200
    bot.kill()  # somewhere around recording and sending the reboot
    await bot.reap()
    sent_before_restart = await bot.reboots("ddi-tokyo")
    assert sent_before_restart <= 1
    await bot.start()
    # either the reboot went out and the case follows it up, or its outcome is unknown and
    # the approver is asked again: never a blind second reboot
    again = await _until(
        lambda: (
            _prompt(bot.slack, "Approve reboot", 2)
            or any("Resolved" in c.args["text"] for c in bot.slack.posts())
        ),
        "a follow-up or a second question",
    )
    if isinstance(again, Call):
        assert await bot.reboots("ddi-tokyo") == sent_before_restart
        assert "interrupted" in again.args["text"] or "could not be sent" in again.args["text"]
        await bot.click(again, "Approve reboot", user=APPROVER)
        await _until(lambda: any("Resolved" in c.args["text"] for c in bot.slack.posts()),
                     "resolved after the second approval")  # fmt: skip
        assert await bot.reboots("ddi-tokyo") <= sent_before_restart + 1
    else:
        assert await bot.reboots("ddi-tokyo") == 1
    err = await bot.stop()
    assert "Traceback" not in err, err
    _posted_once(bot.slack)
