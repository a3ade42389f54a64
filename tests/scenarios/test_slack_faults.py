"""A slow or failing Slack delays a case, never abandons it: rate limits, 500s, 503s and answers
that come after the bot stopped waiting (but were kept). Every message appears once, in order."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace

from conftest import APPROVER, CHANNEL, Harness
from sqlalchemy import select

from storage import outbox
from storage.models import CaseRow


def _quick_retries(h: Harness) -> None:
    """Retry after 0.1 s, not 1 s (then doubling): the same code path, a shorter test."""
    engine = h.runtime.engine
    engine.config = replace(engine.config, retry_first=0.1, retry_max=1.0)


def _thread(h: Harness, root_ts: str) -> list[str]:
    return [c.args["text"] for c in h.slack.posts() if c.args.get("thread_ts") == root_ts]


async def _queued_texts(h: Harness, case_id: int) -> list[str]:
    """What the bot decided to say in the thread, in the order it decided it."""
    async with h.runtime.engine.sessions() as session:
        rows = await outbox.of_case(session, case_id)
    texts = []
    for row in rows:
        if row.kind == "post":
            content = row.body.get("message") or row.body.get("prompt")
            texts.append(re.sub(r"\s+", " ", content["text"])[:60])
    return texts


async def _run_tmsp_down(h: Harness) -> CaseRow:
    await h.command("ddi-tokyo-1")
    await h.click(await h.prompt("Skip"), "Skip")
    await h.click(await h.prompt("Approve reboot"), "Approve reboot", user=APPROVER)
    return await h.wait_closed("ddi-tokyo-1")


async def test_every_message_arrives_once_and_in_order_through_429_500_503(
    harness: Harness,
) -> None:
    h = harness
    _quick_retries(h)
    h.slack.fail["chat.postMessage"] = [503, "internal_error", 429, 500, 503, 503, 429]
    h.slack.fail["chat.update"] = [500, 429, 503]
    row = await _run_tmsp_down(h)
    assert row.outcome == "resolved"
    assert await h.reboots("ddi-tokyo-1") == 1
    assert len(h.slack.failures) == 10  # every fault was met...
    root = h.root("ddi-tokyo-1")
    roots = [c for c in h.slack.posts() if "thread_ts" not in c.args]
    assert roots == [root]  # ...and nothing was posted twice
    shown = _thread(h, root.ts)
    assert len(shown) == len(set(shown))
    assert [re.sub(r"\s+", " ", t)[:60] for t in shown] == await _queued_texts(h, row.id)
    final = [c for c in h.slack.by("chat.update") if c.args["ts"] == root.ts][-1]
    assert "Resolved" in final.args["text"]


async def test_answers_slack_kept_but_sent_too_late_are_not_posted_twice(
    harness: Harness,
) -> None:
    h = harness
    _quick_retries(h)
    # the root message and two thread posts are kept by Slack, answered after the bot's 1 s
    h.slack.slow["chat.postMessage"] = [2.5, 2.5, 0.0, 2.5]
    row = await _run_tmsp_down(h)
    assert row.outcome == "resolved"  # the slow root post did not abandon the case
    roots = [c for c in h.slack.posts() if "thread_ts" not in c.args]
    assert len(roots) == 1
    shown = _thread(h, roots[0].ts)
    assert len(shown) == len(set(shown)) and shown
    # it looked for its message (by the metadata it posts with) instead of posting again
    assert h.slack.by("conversations.history") and h.slack.by("conversations.replies")
    assert all(c.args["metadata"]["event_type"] == "ddi_bot_case" for c in h.slack.posts())
    final = [c for c in h.slack.by("chat.update") if c.args["ts"] == roots[0].ts][-1]
    assert "Resolved" in final.args["text"]


async def test_posts_into_one_channel_are_paced_for_every_case_together(
    harness: Harness,
) -> None:
    h = harness
    engine = h.runtime.engine
    engine.config = replace(engine.config, posts_per_second=4.0, burst=2)
    for name in ("ddi-tokyo-1", "ddi-nagoya-3", "ddi-<b>&evil"):
        await h.command(name)
    for word in ("Skip", "Quiet", "Skip"):
        await h.prompt(word)
    await engine.quiesce()
    stamps = sorted(c.at for c in h.slack.posts() if c.args["channel"] == CHANNEL)
    assert len(stamps) >= 12
    # in any window of w seconds: at most the burst plus what the rate refills
    for i, start in enumerate(stamps):
        in_second = [s for s in stamps[i:] if s - start < 1.0]
        assert len(in_second) <= 2 + 4, stamps


async def test_a_message_failing_for_long_is_reported_once_and_still_delivered(
    harness: Harness, caplog: object
) -> None:
    h = harness
    engine = h.runtime.engine
    engine.config = replace(engine.config, stuck_after=0.5, retry_first=0.1)
    h.slack.fail["chat.postMessage"] = ["invalid_auth"] * 4  # say, a token being rotated
    await h.command("ddi-nagoya-3")
    await h.prompt("Quiet")
    async with engine.sessions() as session:
        (case,) = (await session.execute(select(CaseRow))).scalars().all()
    assert case.thread_ts is not None and case.open_key is not None
    logged = [r for r in caplog.records if "still trying" in r.getMessage()]  # type: ignore[attr-defined]
    assert len(logged) == 1
    assert Counter(m for m, _ in h.slack.failures)["chat.postMessage"] == 4
