"""Requests Slack sends that must be refused, corrected or answered without opening a case."""

from __future__ import annotations

import json
import time
from dataclasses import replace

from conftest import SECRET, Harness
from fakeslack import command_body, sign
from sqlalchemy import func, select

from storage.models import CaseRow


async def _case_count(h: Harness) -> int:
    async with h.runtime.engine.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(CaseRow)) or 0)


async def test_bad_signatures_are_rejected_and_nothing_happens(harness: Harness) -> None:
    h = harness
    body = command_body("ddi-tokyo-1", "U1", "C1", f"{h.slack.url}/respond/1")
    wrong_secret = await h.send(body, sign("not-the-secret", body))
    stale = await h.send(body, sign(SECRET, body, timestamp=int(time.time()) - 600))
    tampered = await h.send(body.replace("ddi-tokyo-1", "ddi-osaka-2"), sign(SECRET, body))
    unsigned = await h.send(body, {"Content-Type": "application/x-www-form-urlencoded"})
    assert [r.status_code for r in (wrong_secret, stale, tampered, unsigned)] == [401] * 4
    await h.runtime.engine.tasks.drain()
    assert await _case_count(h) == 0
    assert h.slack.posts() == []


async def test_help_and_empty_command_show_usage(harness: Harness) -> None:
    for text in ("", "help"):
        response = await harness.command(text)
        assert response.status_code == 200
        assert "/ddi-check <appliance>" in response.text
        assert "ddi-tokyo-1" in response.text
    assert await _case_count(harness) == 0


async def test_unknown_appliance_lists_close_matches(harness: Harness) -> None:
    response = await harness.command("ddi-tokio-1")
    assert "Unknown appliance `ddi-tokio-1`" in response.text
    assert "`ddi-tokyo-1`" in response.text
    nothing_close = await harness.command("zzzzzz")
    assert "No similar name" in nothing_close.text
    assert await _case_count(harness) == 0


async def test_hostile_names_are_escaped_in_slack_markup(harness: Harness) -> None:
    h = harness
    response = await h.command("<!channel>")
    assert "<!channel>" not in response.text and "&lt;!channel&gt;" in response.text
    await h.command("ddi-<b>&evil")
    await h.prompt("Collect")
    root = h.slack.posts()[0]
    assert "ddi-&lt;b&gt;&amp;evil" in root.args["text"]
    assert "<b>" not in root.args["text"]


async def test_second_check_points_to_the_open_case(harness: Harness) -> None:
    h = harness
    await h.command("ddi-nagoya-3")
    await h.prompt("Quiet")
    again = await h.command("ddi-nagoya-3")
    assert again.status_code == 200
    reply = await h.wait_for(lambda: h.slack.responses)
    assert reply[0]["response_type"] == "ephemeral"
    assert "already has an open case #1" in reply[0]["text"]
    assert "https://example.slack.com/archives/" in reply[0]["text"]
    assert await _case_count(h) == 1
    assert len([c for c in h.slack.posts() if "thread_ts" not in c.args]) == 1


async def test_channel_the_bot_cannot_post_in_gives_clear_advice(harness: Harness) -> None:
    h = harness
    h.slack.fail["chat.postMessage"] = ["not_in_channel"]
    await h.command("ddi-tokyo-1")
    reply = await h.wait_for(lambda: h.slack.responses)
    assert "not_in_channel" in reply[0]["text"] and "Invite the bot" in reply[0]["text"]
    row = await h.case("ddi-tokyo-1")
    assert row.open_key is None  # not left open: the next check can start
    await h.command("ddi-tokyo-1")
    await h.prompt("Collect")


async def test_slack_rate_limits_are_waited_out(harness: Harness) -> None:
    h = harness
    h.slack.fail["chat.postMessage"] = [429]
    await h.command("ddi-tokyo-1")
    await h.prompt("Collect")
    assert len([c for c in h.slack.posts() if "thread_ts" not in c.args]) == 1


async def test_an_appliance_whose_driver_is_unavailable_opens_no_case(harness: Harness) -> None:
    h = harness
    await h.command("ddi-acme-6")
    reply = await h.wait_for(lambda: h.slack.responses)
    assert "Configuration problem" in reply[0]["text"] and "acme-console" in reply[0]["text"]
    assert await _case_count(h) == 0 and h.slack.posts() == []


async def test_a_second_check_asks_a_lost_question_again(harness: Harness) -> None:
    h = harness
    engine = h.runtime.engine
    engine.config = replace(engine.config, retry_first=600.0)  # no retry of its own here
    h.slack.lose_questions = 1  # Slack fails the question: the case waits with no buttons...
    await h.command("ddi-tokyo-1")
    await h.wait_for(lambda: h.slack.lose_questions == 0)
    await h.runtime.engine.tasks.drain()
    assert h.slack.prompts() == []
    await h.command("ddi-tokyo-1")  # ...until someone runs the check again
    question = await h.prompt("Collect")
    reply = await h.wait_for(lambda: h.slack.responses)
    assert "posted again in the thread" in reply[0]["text"]
    await h.click(question, "Collect")
    await h.prompt("Approve reboot")


async def test_the_events_url_answers_slacks_verification_challenge(harness: Harness) -> None:
    """Slack checks the Events API request URL before it sends any file event (HTTP mode)."""
    body = json.dumps({"token": "legacy", "challenge": "c-123", "type": "url_verification"})
    response = await harness.send(body, {**sign(SECRET, body), "Content-Type": "application/json"})
    assert response.status_code == 200 and "c-123" in response.text


async def test_ordinary_channel_messages_are_acknowledged_and_ignored(harness: Harness) -> None:
    event = {"type": "message", "channel": "C0OPS", "user": "U1", "text": "hi", "ts": "1.1"}
    response = await harness.event(event, "EvPlain")
    assert response.status_code == 200
    await harness.runtime.engine.tasks.drain()
    assert harness.slack.by("files.info") == []


async def test_a_check_is_answered_in_time_even_when_the_database_is_slow(
    harness: Harness,
) -> None:
    h = harness
    db = h.runtime.engine.db
    async with db._writer:  # another writer holds the database for longer than Slack waits
        ack = await h.command("ddi-nagoya-3")
        assert ack.status_code == 200 and "Opening a check of `ddi-nagoya-3`" in ack.text
        assert await _case_count(h) == 0
    await h.prompt("Quiet")  # recorded once the database was free, and run
    assert await _case_count(h) == 1
