"""Two real ``ddi-bot serve`` replicas on one PostgreSQL, the simulator and the local
Slack-like server: checks split between them, every click sent to both at once, and kill -9
of one replica during steps, while a case waits for its re-check timer, and inside the reboot
window. Every case finishes on the survivor; one decision per question, at most one reboot
per approval, every timer fired once, no Slack message lost or doubled."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fakeslack import Call, FakeSlack
from test_crash import APPROVER, Bot, _prompt, _roots, _until, slack_and_sensors

STALL = 2  # DDI_BOT_STALL_SECONDS of both replicas
TAKEOVER = STALL + 10 + 60  # the stall bound, one takeover period, and the 60 s


@pytest.fixture
async def replicas(postgres_url: str, tmp_path: Path) -> AsyncIterator[tuple[Bot, Bot]]:
    shared = {
        "DDI_BOT_STALL_SECONDS": str(STALL),
        "DDI_BOT_DATA_DIR": str(tmp_path / "data"),  # shared by the replicas
        "DDI_BOT_RECHECK_HOURS": str(3 / 3600),  # the re-check runs 3 s after "quiet"
        "DDI_BOT_CAPTURE_SECONDS": "2",  # step 3 lasts long enough to be killed in
    }
    bots: list[Bot] = []
    async with slack_and_sensors() as (slack, simulator), httpx.AsyncClient(timeout=10) as http:
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            bot = Bot(tmp_path / name, slack, simulator, http, database_url=postgres_url,
                      settings=shared)  # fmt: skip
            bots.append(bot)
        try:
            await asyncio.gather(*(bot.start() for bot in bots))
            yield bots[0], bots[1]
        finally:
            for bot in bots:
                if bot.proc is not None and bot.proc.returncode is None:
                    await bot.stop()


def _posted_once(slack: FakeSlack) -> None:
    """Every message the bot queued is in Slack once (a re-check may post the same words
    again: it is a message of its own)."""
    ids = [c.args["metadata"]["event_payload"]["outbox_id"] for c in slack.posts()]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def _resolved(slack: FakeSlack) -> bool:
    return any("Resolved" in c.args["text"] for c in slack.posts())


async def test_checks_split_between_replicas_and_clicks_sent_to_both_count_once(
    replicas: tuple[Bot, Bot],
) -> None:
    a, b = replicas
    slack = a.slack
    await a.command("ddi-tokyo")
    await b.command("ddi-nagoya")
    skip = await _until(lambda: _prompt(slack, "Skip"), "tokyo's step 4 question")
    quiet = await _until(lambda: _prompt(slack, "Quiet"), "nagoya's traffic question")
    # a person's click reaches both replicas at once (a retry, a second pod behind a balancer)
    answers = await asyncio.gather(a.click(skip, "Skip"), b.click(skip, "Skip"))
    assert [r.status_code for r in answers] == [200, 200]
    approval = await _until(lambda: _prompt(slack, "Approve reboot"), "the approval")
    answers = await asyncio.gather(
        a.click(approval, "Approve reboot", user=APPROVER),
        b.click(approval, "Approve reboot", user=APPROVER),
    )
    assert [r.status_code for r in answers] == [200, 200]
    await _until(lambda: _resolved(slack), "tokyo resolved after its reboot")
    assert await a.reboots("ddi-tokyo") == 1
    await asyncio.gather(a.click(quiet, "Quiet"), b.click(quiet, "Quiet"))
    # the re-check timer fires once, on whichever replica sees it first
    await _until(lambda: _prompt(slack, "Quiet", 2), "nagoya asked again after its re-check")
    await asyncio.sleep(1.0)
    assert _prompt(slack, "Quiet", 3) is None
    assert len(_prompt_list(slack, "Approve reboot")) == 1
    assert len(_roots(slack, "ddi-tokyo")) == 1 and len(_roots(slack, "ddi-nagoya")) == 1
    _posted_once(slack)
    for bot in (a, b):
        assert "Traceback" not in await bot.stop()


def _prompt_list(slack: FakeSlack, word: str) -> list[object]:
    found = []
    while (prompt := _prompt(slack, word, len(found) + 1)) is not None:
        found.append(prompt)
    return found


async def test_a_replica_killed_during_steps_leaves_its_cases_to_the_other(
    replicas: tuple[Bot, Bot],
) -> None:
    a, b = replicas
    slack = a.slack
    await asyncio.gather(a.stop(), b.stop())  # for now a alone takes the jobs...
    a.settings = {**a.settings, "DDI_BOT_CAPTURE_SECONDS": "30"}  # ...and captures slowly
    await a.start()
    await a.command("ddi-nagoya")
    await a.command("ddi-tokyo")
    quiet = await _until(lambda: _prompt(slack, "Quiet"), "nagoya's traffic question")
    assert (await a.click(quiet, "Capture packets")).status_code == 200
    nagoya = _roots(slack, "ddi-nagoya")
    await b.start()  # b is back while a captures...
    await asyncio.sleep(1.0)
    assert not _step_in(slack, "Capture summary", nagoya)
    a.kill()  # ...and a dies holding nagoya's capture
    await a.reap()
    await _until(lambda: _step_in(slack, "Capture summary", nagoya), "b's capture", TAKEOVER)
    await _until(lambda: _asked_in(slack, "Skip", nagoya), "nagoya's next question", TAKEOVER)
    await _until(lambda: _prompt(slack, "Skip", 2), "tokyo's question too", TAKEOVER)
    assert len(_roots(slack, "ddi-nagoya")) == 1 and len(_roots(slack, "ddi-tokyo")) == 1
    _posted_once(slack)
    log = await b.stop()
    assert "Traceback" not in log
    assert "took over 1 job(s) of a replica that stopped" in log  # nagoya's capture


def _asked_in(slack: FakeSlack, word: str, roots: list[Call]) -> bool:
    return any(
        c.args.get("thread_ts") == roots[0].ts
        and any(word in e["text"]["text"] for b in c.args["blocks"] for e in b.get("elements", []))
        for c in slack.prompts()
    )


def _step_in(slack: FakeSlack, words: str, roots: list[Call]) -> bool:
    return any(
        words in c.args["text"] and c.args.get("thread_ts") == roots[0].ts
        for c in slack.posts()
        if roots
    )


async def test_a_replica_killed_while_a_case_waits_for_its_timer(
    replicas: tuple[Bot, Bot],
) -> None:
    a, b = replicas
    slack = a.slack
    await a.command("ddi-nagoya")
    quiet = await _until(lambda: _prompt(slack, "Quiet"), "nagoya's traffic question")
    assert (await a.click(quiet, "Quiet")).status_code == 200
    await _until(lambda: any("runs again" in c.args["text"] for c in slack.posts()), "the wait")
    a.kill()
    await a.reap()
    await _until(lambda: _prompt(slack, "Quiet", 2), "the re-check, run by b", TAKEOVER)
    await asyncio.sleep(1.0)
    assert _prompt(slack, "Quiet", 3) is None  # fired once
    _posted_once(slack)
    assert "Traceback" not in await b.stop()


async def test_a_replica_killed_inside_the_reboot_window_never_reboots_twice(
    replicas: tuple[Bot, Bot],
) -> None:
    a, b = replicas
    slack = a.slack
    await a.command("ddi-tokyo")
    await a.click(await _until(lambda: _prompt(slack, "Skip"), "step 4"), "Skip")
    approval = await _until(lambda: _prompt(slack, "Approve reboot"), "the approval")
    assert (await a.click(approval, "Approve reboot", user=APPROVER)).status_code == 200
    a.kill()  # somewhere around taking the reboot job and sending the reboot
    await a.reap()
    sent = await b.reboots("ddi-tokyo")
    assert sent <= 1
    # the survivor follows the reboot up, or asks the approver again: never a blind reboot
    again = await _until(
        lambda: _prompt(slack, "Approve reboot", 2) or _resolved(slack),
        "a follow-up or a second question, from b",
        TAKEOVER,
    )
    if again is True:
        assert await b.reboots("ddi-tokyo") == 1
    else:
        assert await b.reboots("ddi-tokyo") == sent
        await b.click(again, "Approve reboot", user=APPROVER)
        await _until(lambda: _resolved(slack), "resolved after the second approval", TAKEOVER)
        assert await b.reboots("ddi-tokyo") <= sent + 1
    _posted_once(slack)
    assert "Traceback" not in await b.stop()
