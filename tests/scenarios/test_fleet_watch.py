"""The fleet watch on real sockets: guided sensors whose consoles are local TLS servers and
whose portal server is a local TCP listener, syslog detections sent over UDP, alerts posted
through the outbox to a Slack-like API, the Open-a-case button clicked with a signed request.

Sweeps are run by the test (``engine.sweep()``) rather than waited for; the silence test moves
the bot's clock forward instead of waiting two hours."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import SECRET, _serve, wait_for
from fakeslack import Call, FakeSlack, action_body, command_body, event_body, sign
from sqlalchemy import select
from tlsconsole import Portal, TlsConsole

from bot.inventory import Appliance, Inventory
from bot.runbook import Timing
from bot.runtime import Runtime, start_runtime
from bot.settings import Settings
from handlers.app import build_app, make_client, outbox_client
from handlers.health import Health
from handlers.home import HomeTabs
from handlers.messenger import SlackMessenger
from handlers.server import create_web_app
from storage import syslog_counts, syslog_receivers
from storage.models import AlertRow, CaseRow

ALERTS = "C0ALERTS"  # DDI_BOT_ALERT_CHANNEL
SITE_CHANNEL = "C0SITE"  # the inventory channel of the first sensor
OPERATOR = "U0OPERATOR"
STRANGER = "U0STRANGER"  # not an operator
NAMES = [f"ddi-w{n}" for n in range(1, 6)]  # guided, behind one portal server
SIMULATED = "ddi-sim-6"  # a simulated sensor with a console of its own
HEAD = "CEF:0|Trend Micro|Deep Discovery Inspector|6.7.1164|20|Malware URL requested|6|"


@dataclass
class Watch:
    slack: FakeSlack
    runtime: Runtime
    url: str
    http: httpx.AsyncClient
    consoles: list[TlsConsole]
    portal: Portal
    offset: list[timedelta]  # the bot's clock runs this far ahead of the real one
    tabs: HomeTabs

    async def alerts(self) -> list[AlertRow]:
        async with self.runtime.engine.sessions() as session:
            return list((await session.execute(select(AlertRow).order_by(AlertRow.id))).scalars())

    async def sweep(self) -> None:
        await self.runtime.engine.sweep()
        await self.runtime.engine.quiesce()

    def posts_in(self, channel: str) -> list[Call]:
        return [c for c in self.slack.posts() if c.args["channel"] == channel]

    def updates(self, ts: str) -> list[Call]:
        return [c for c in self.slack.by("chat.update") if c.args["ts"] == ts]

    async def wait_for(self, predicate: Callable[[], Any], limit: float = 20.0) -> Any:
        return await wait_for(predicate, limit)

    async def click(self, post: Call, user: str) -> httpx.Response:
        (button,) = [e for b in post.args["blocks"] for e in b.get("elements", [])]
        action = {"action_id": button["action_id"], "value": button["value"]}
        action["block_id"] = post.args["blocks"][-1]["block_id"]
        body = action_body(
            action, user, post.args["channel"], post.ts, post.ts, f"{self.slack.url}/respond/2"
        )
        return await self.http.post(
            f"{self.url}/slack/events", content=body, headers=sign(SECRET, body)
        )


@pytest.fixture
async def watch(tmp_path: Path, self_signed: tuple[Path, Path]) -> AsyncIterator[Watch]:
    consoles = [TlsConsole(*self_signed) for _ in range(3)]
    for console in consoles:
        await console.start()
    portal = Portal()
    await portal.start()
    guided = [
        Appliance(
            name=name,
            console=consoles[0 if index == 0 else 1].address,
            tmsp_servers=(f"tcp://127.0.0.1:{portal.port}",),
            syslog_ids=(name.upper(),),
            channel=SITE_CHANNEL if index == 0 else None,
        )
        for index, name in enumerate(NAMES)
    ]
    simulated = Appliance(name=SIMULATED, driver="simulated", console=consoles[2].address)
    fleet = Inventory((*guided, simulated))
    slack = FakeSlack()
    slack.url, slack_runner = await _serve(slack.app())
    settings = replace(
        Settings(),
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        operators=frozenset({OPERATOR}),
        approvers=frozenset({"U0APPROVER"}),
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SECRET,
        slack_api_url=f"{slack.url}/api/",
        appliance_timeout=0.5,
        posts_per_second=50.0,
        syslog_udp=0,
        syslog_host="127.0.0.1",
        watch_seconds=0,  # the test sweeps
        alert_channel=ALERTS,
    )
    offset = [timedelta(0)]
    runtime = await start_runtime(
        settings,
        SlackMessenger(outbox_client("xoxb-test-token", settings.slack_api_url, 1.0)),
        inventory=fleet,
        timing=Timing(recheck_delay=3600.0),
        artifacts=tmp_path / "artifacts",
        timer_poll=0.1,
        clock=lambda: datetime.now(UTC) + offset[0],
        syslog_flush=0.1,
    )
    client = make_client("xoxb-test-token", settings.slack_api_url)
    bolt, tabs = build_app(runtime.engine, client, SECRET)
    url, app_runner = await _serve(create_web_app(bolt, Health(runtime.engine, client)))
    async with httpx.AsyncClient(timeout=10) as http:
        yield Watch(slack, runtime, url, http, consoles, portal, offset, tabs)
    await app_runner.cleanup()
    for console in consoles:
        await console.stop()
    await portal.stop()
    await runtime.stop(drain=False)
    await slack_runner.cleanup()


async def test_a_healthy_fleet_raises_nothing(watch: Watch) -> None:
    await watch.sweep()
    assert await watch.alerts() == []
    assert watch.slack.posts() == []


async def test_a_console_going_down_is_one_alert_recovered_in_place(watch: Watch) -> None:
    await watch.consoles[0].stop()  # ddi-w1's console alone
    await watch.sweep()
    await watch.sweep()  # the next sweep finds it again: no second alert
    (alert,) = await watch.alerts()
    assert (alert.appliance, alert.condition, alert.cleared_at) == ("ddi-w1", "console", None)
    (post,) = watch.slack.posts()
    assert post.args["channel"] == SITE_CHANNEL  # the appliance's own channel
    assert "ddi-w1" in post.args["text"] and "console does not answer" in post.args["text"]
    assert "tcp: refused" in post.args["text"]
    assert post.args["metadata"]["event_type"] == "ddi_bot_case"
    labels = [e["text"]["text"] for b in post.args["blocks"] for e in b.get("elements", [])]
    assert labels == ["Open a case"]

    await watch.consoles[0].start()
    await watch.sweep()
    (alert,) = await watch.alerts()
    assert alert.cleared_at is not None and alert.open_key is None
    assert len(watch.slack.posts()) == 1  # updated in place, not posted again
    (update,) = watch.updates(post.ts)
    assert "Recovered after" in update.args["text"]
    assert not any(b.get("type") == "actions" for b in update.args["blocks"])


async def test_the_shared_portal_closing_is_one_fleet_alert_and_no_case(watch: Watch) -> None:
    ddi_w2 = await watch.runtime.engine.open_case("ddi-w2", OPERATOR, SITE_CHANNEL)
    await watch.runtime.engine.quiesce()
    await watch.portal.stop()
    await watch.sweep()
    (alert,) = await watch.alerts()
    assert (alert.appliance, alert.condition) == ("fleet", "portal")
    assert sorted(alert.detail["members"]) == NAMES
    fleet_posts = watch.posts_in(ALERTS)
    assert len(fleet_posts) == 1
    text = fleet_posts[0].args["text"]
    assert "Fleet alert" in text and f"127.0.0.1:{watch.portal.port}" in text
    assert "for 5 sensors" in text and "not the sensors" in text
    assert not any(b.get("type") == "actions" for b in fleet_posts[0].args["blocks"])
    async with watch.runtime.engine.sessions() as session:
        opened = list((await session.execute(select(CaseRow))).scalars())
    assert [c.id for c in opened] == [ddi_w2.case_id]  # no case for the portal's outage
    # the case already open on one of them hears of it, in its thread, once
    case = opened[0]
    notes = [
        c
        for c in watch.slack.posts()
        if c.args.get("thread_ts") == case.thread_ts and "fleet alert" in c.args["text"]
    ]
    assert len(notes) == 1 and "do not reboot it for this" in notes[0].args["text"]

    await watch.sweep()
    assert len(await watch.alerts()) == 1 and len(watch.posts_in(ALERTS)) == 1

    await watch.portal.start()  # the same port again
    await watch.sweep()
    (alert,) = await watch.alerts()
    assert alert.cleared_at is not None
    assert "Recovered after" in watch.updates(fleet_posts[0].ts)[-1].args["text"]


async def _detections(watch: Watch, names: list[str]) -> None:
    syslog = watch.runtime.syslog
    assert syslog is not None and syslog.udp_port
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        for name in names:
            message = f"<134>Nov 25 17:04:10 sensor {HEAD}dvchost={name.upper()} cn3=2"
            udp.sendto(message.encode(), ("127.0.0.1", syslog.udp_port))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        async with watch.runtime.engine.sessions() as session:
            seen = await syslog_counts.last_seen_all(session)
        if all(name in seen for name in names):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("detections not stored")


async def _listened_until(watch: Watch, until: datetime, since: datetime | None = None) -> None:
    """Another replica's receiver that listened from ``since`` (now) until ``until``."""
    async with watch.runtime.engine.sessions.begin() as session:
        await syslog_receivers.started(session, "replica-b", since or datetime.now(UTC))
        await syslog_receivers.seen(session, "replica-b", until)


async def test_a_sensor_going_silent_is_one_alert_with_its_usual_rate(watch: Watch) -> None:
    await _detections(watch, ["ddi-w1"])
    await watch.sweep()
    assert await watch.alerts() == []  # detections just arrived

    watch.offset[0] = timedelta(hours=3)  # three hours later, with a receiver listening
    await _listened_until(watch, datetime.now(UTC) + timedelta(hours=3))
    await watch.sweep()
    await watch.sweep()
    (alert,) = await watch.alerts()
    assert (alert.appliance, alert.condition) == ("ddi-w1", "silent")
    (post,) = watch.slack.posts()
    assert "no syslog detection" in post.args["text"] and "Last detection" in post.args["text"]


async def test_five_sensors_silent_at_once_are_one_fleet_alert(watch: Watch) -> None:
    await _detections(watch, NAMES)
    watch.offset[0] = timedelta(hours=3)
    await _listened_until(watch, datetime.now(UTC) + timedelta(hours=3))
    await watch.sweep()
    (alert,) = await watch.alerts()
    assert (alert.appliance, alert.condition) == ("fleet", "silent")
    (post,) = watch.slack.posts()
    assert post.args["channel"] == ALERTS and "5 sensors went silent" in post.args["text"]


async def test_silence_nobody_listened_to_raises_nothing(watch: Watch) -> None:
    await _detections(watch, ["ddi-w1"])
    watch.offset[0] = timedelta(hours=3)  # the bot's receiver was not heard from since
    await watch.sweep()
    assert await watch.alerts() == []


async def test_open_a_case_is_for_operators_and_opens_the_normal_case(watch: Watch) -> None:
    await watch.consoles[0].stop()
    await watch.sweep()
    (post,) = watch.slack.posts()

    assert (await watch.click(post, STRANGER)).status_code == 200
    refused = await watch.wait_for(lambda: watch.slack.by("chat.postEphemeral"))
    assert refused[0].args["user"] == STRANGER
    async with watch.runtime.engine.sessions() as session:
        assert list((await session.execute(select(CaseRow))).scalars()) == []

    assert (await watch.click(post, OPERATOR)).status_code == 200
    updated = await watch.wait_for(lambda: watch.updates(post.ts))
    assert "opened by <@U0OPERATOR>" in updated[-1].args["text"]
    assert not any(b.get("type") == "actions" for b in updated[-1].args["blocks"])
    async with watch.runtime.engine.sessions() as session:
        (case,) = list((await session.execute(select(CaseRow))).scalars())
    assert (case.appliance, case.requested_by, case.channel) == ("ddi-w1", OPERATOR, SITE_CHANNEL)
    (alert,) = await watch.alerts()
    assert alert.case_id == case.id

    # a second click (or a second person) is told the case is open already, nothing opens
    assert (await watch.click(post, OPERATOR)).status_code == 200
    await watch.wait_for(lambda: len(watch.slack.by("chat.postEphemeral")) == 2)
    async with watch.runtime.engine.sessions() as session:
        assert len(list((await session.execute(select(CaseRow))).scalars())) == 1


async def test_the_list_command_shows_open_alerts(watch: Watch) -> None:
    await watch.consoles[0].stop()
    await watch.sweep()
    body = command_body("list", OPERATOR, ALERTS, f"{watch.slack.url}/respond/1")
    response = await watch.http.post(
        f"{watch.url}/slack/events", content=body, headers=sign(SECRET, body)
    )
    assert response.status_code == 200
    answer = await watch.wait_for(lambda: watch.slack.responses)
    assert "Open alerts (1)" in answer[-1]["text"] and "ddi-w1" in answer[-1]["text"]


async def test_with_watch_opens_cases_a_sensors_own_alert_opens_its_case(watch: Watch) -> None:
    engine = watch.runtime.engine
    engine.config = replace(engine.config, watch_opens_cases=True)
    await watch.consoles[2].stop()  # the simulated sensor's console
    await watch.consoles[0].stop()  # a guided one's: a person must run its steps
    await watch.sweep()
    async with engine.sessions() as session:
        (case,) = list((await session.execute(select(CaseRow))).scalars())
    assert (case.appliance, case.requested_by) == (SIMULATED, "ddi-bot")
    by_appliance = {a.appliance: a for a in await watch.alerts()}
    assert by_appliance[SIMULATED].case_id == case.id
    assert by_appliance["ddi-w1"].case_id is None
    alert_post = next(p for p in watch.posts_in(ALERTS) if SIMULATED in p.args["text"])
    updated = await watch.wait_for(lambda: watch.updates(alert_post.ts))
    assert f"Case #{case.id} opened by _ddi-bot_" in updated[-1].args["text"]

    await watch.sweep()  # found again: no second case
    async with engine.sessions() as session:
        assert len(list((await session.execute(select(CaseRow))).scalars())) == 1


async def test_app_home_shows_alerts_and_is_published_again_when_one_clears(
    watch: Watch,
) -> None:
    await watch.consoles[0].stop()
    await watch.sweep()
    event = {"type": "app_home_opened", "user": OPERATOR, "tab": "home", "channel": "D1"}
    body = event_body(event, "EvHomeWatch")
    headers = {**sign(SECRET, body), "Content-Type": "application/json"}
    response = await watch.http.post(f"{watch.url}/slack/events", content=body, headers=headers)
    assert response.status_code == 200
    published = await watch.wait_for(lambda: watch.slack.by("views.publish"))
    shown = str(published[-1].args["view"])
    assert "Open alerts (1)" in shown and "console down" in shown

    await watch.tabs.refresh()  # the first look takes the mark
    count = len(watch.slack.by("views.publish"))
    assert await watch.tabs.refresh() == 0  # nothing changed: not published again
    assert len(watch.slack.by("views.publish")) == count
    await watch.consoles[0].start()
    await watch.sweep()
    assert await watch.tabs.refresh() == 1
    assert "Open alerts (0)" in str(watch.slack.by("views.publish")[-1].args["view"])


async def test_an_alert_the_sweep_cannot_judge_stays_open(watch: Watch) -> None:
    await _detections(watch, ["ddi-w1"])
    watch.offset[0] = timedelta(hours=3)
    await _listened_until(watch, datetime.now(UTC) + timedelta(hours=3))
    await watch.sweep()
    (alert,) = await watch.alerts()
    watch.offset[0] = timedelta(hours=8)  # the receivers fell silent since: nobody listened
    await watch.sweep()
    (alert,) = await watch.alerts()
    assert alert.cleared_at is None  # not "recovered": the bot could not tell
    (post,) = watch.slack.posts()
    assert watch.updates(post.ts) == []


async def test_sensors_going_silent_over_several_sweeps_fold_into_one_fleet_alert(
    watch: Watch,
) -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    async with watch.runtime.engine.sessions.begin() as session:  # w1 quiet first, then w2, w3
        await syslog_counts.add(
            session,
            [("ddi-w1", now - timedelta(hours=3), 4)]
            + [(name, now - timedelta(minutes=50), 4) for name in ("ddi-w2", "ddi-w3")],
        )
    await _listened_until(watch, now + timedelta(hours=4), since=now - timedelta(hours=5))
    await watch.sweep()
    (own,) = await watch.alerts()
    assert (own.appliance, own.condition) == ("ddi-w1", "silent")
    (own_post,) = watch.slack.posts()

    watch.offset[0] = timedelta(minutes=80)  # w2 and w3 cross the limit too
    await watch.sweep()
    rows = {row.appliance: row for row in await watch.alerts()}
    assert rows["ddi-w1"].cleared_at is not None and rows["ddi-w1"].detail["closed"] == "folded"
    fleet = rows["fleet"]
    assert fleet.open_key is not None and sorted(fleet.detail["members"]) == NAMES[:3]
    folded = await watch.wait_for(lambda: watch.updates(own_post.ts))
    assert "Now part of a fleet alert" in folded[-1].args["text"]
    assert "3 sensors went silent" in watch.posts_in(ALERTS)[-1].args["text"]


async def test_open_a_case_on_a_recovered_alert_is_refused(watch: Watch) -> None:
    await watch.consoles[0].stop()
    await watch.sweep()
    (post,) = watch.slack.posts()
    await watch.consoles[0].start()
    await watch.sweep()
    assert (await watch.click(post, OPERATOR)).status_code == 200  # an old copy of the button
    (told,) = await watch.wait_for(lambda: watch.slack.by("chat.postEphemeral"))
    assert "has cleared" in told.args["text"] and "/ddi-check ddi-w1" in told.args["text"]
    async with watch.runtime.engine.sessions() as session:
        assert list((await session.execute(select(CaseRow))).scalars()) == []


async def test_an_alert_its_channel_refuses_goes_to_the_alert_channel(watch: Watch) -> None:
    watch.slack.fail["chat.postMessage"] = ["not_in_channel"]  # the bot is not in C0SITE
    await watch.consoles[0].stop()
    await watch.sweep()
    post = await watch.wait_for(lambda: watch.posts_in(ALERTS))
    assert "ddi-w1" in post[0].args["text"]
    (alert,) = await watch.alerts()
    assert alert.channel == ALERTS and alert.ts == post[0].ts and alert.open_key is not None
    await watch.consoles[0].start()
    await watch.sweep()  # recovered: the message that went out is the one updated
    assert "Recovered after" in watch.updates(post[0].ts)[-1].args["text"]
