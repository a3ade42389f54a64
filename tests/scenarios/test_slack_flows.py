"""End to end: signed slash commands and button clicks, exactly as Slack sends them."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import replace

from conftest import APPROVER, APPROVER_GROUP, CHANNEL, GROUP_MEMBER, GUIDED, OPERATOR, Harness
from fakeslack import Call
from sqlalchemy import func, select

from storage.models import DecisionRow, EventRow, SideEffectRow, TimerRow


def _no_buttons(call_args: dict[str, object]) -> bool:
    blocks = call_args.get("blocks") or []
    assert isinstance(blocks, list)
    return all(b.get("type") != "actions" for b in blocks)


async def _decisions(h: Harness, case_id: int) -> list[DecisionRow]:
    async with h.runtime.engine.sessions() as session:
        rows = await session.execute(select(DecisionRow).where(DecisionRow.case_id == case_id))
        return list(rows.scalars())


async def test_tmsp_down_is_resolved_after_an_approved_reboot(harness: Harness) -> None:
    h = harness
    ack = await h.command("ddi-tokyo-1")
    assert ack.status_code == 200
    assert "Opening a check of `ddi-tokyo-1`" in ack.text

    debug = await h.prompt("Collect")
    assert (await h.click(debug, "Collect")).status_code == 200
    approval = await h.prompt("Approve reboot")
    button = h.button(approval, "Approve reboot")
    assert button["style"] == "danger" and "confirm" in button
    assert (await h.click(approval, "Approve reboot", user=APPROVER)).status_code == 200

    row = await h.wait_closed("ddi-tokyo-1")
    assert row.outcome == "resolved"
    assert await h.reboots("ddi-tokyo-1") == 1

    root = h.root("ddi-tokyo-1")
    assert root.args["channel"] == CHANNEL
    # everything else went into the case's thread
    replies = [c for c in h.slack.posts() if c is not root]
    assert replies and all(c.args["thread_ts"] == root.ts for c in replies)
    texts = "\n".join(c.args["text"] for c in replies)
    assert "Step 1" in texts and "Verified Connection" in texts and "Step 4" in texts
    assert "SHA-256" in texts
    # the bundle is kept, and its digest in the thread is the digest of what was kept
    artifacts = h.runtime.engine.config.artifacts / f"case-{row.id}"
    (bundle,) = artifacts.iterdir()
    assert hashlib.sha256(bundle.read_bytes()).hexdigest() in texts
    assert f"`{bundle.name}`" in texts
    # the root message is kept up to date in place, and ends Resolved
    updates = [c for c in h.slack.by("chat.update") if c.args["ts"] == root.ts]
    assert updates and "Resolved" in updates[-1].args["text"]
    # decided questions show who decided, without buttons
    decided = {c.args["ts"]: c.args for c in h.slack.by("chat.update") if c.args["ts"] != root.ts}
    assert f"<@{APPROVER}>" in decided[approval.ts]["text"]
    assert _no_buttons(decided[approval.ts]) and _no_buttons(decided[debug.ts])
    choices = [(d.choice, d.user_id) for d in await _decisions(h, row.id)]
    assert choices == [("collect", OPERATOR), ("approve_reboot", APPROVER)]


async def test_no_traffic_waits_for_a_fix_then_escalates(harness: Harness) -> None:
    h = harness
    await h.command("ddi-osaka-2")
    await h.click(await h.prompt("Capture packets"), "Capture packets")
    first = await h.prompt("Capture again")
    assert "does not show the mirrored traffic" in first.args["text"]
    analysis = next(c for c in h.slack.posts() if "Capture summary" in c.args["text"])
    assert "no packets at all" in analysis.args["text"].lower()
    # the chart went into the case's thread through the v2 upload flow
    done = h.slack.by("files.completeUploadExternal")[0].args
    assert done["channel_id"] == CHANNEL and done["thread_ts"] == h.root("ddi-osaka-2").ts
    png = h.slack.uploads[done["files"][0]["id"]]
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    await h.click(first, "Capture again")
    second = await h.prompt("Capture again", count=2)
    await h.click(second, "Escalate")
    row = await h.wait_closed("ddi-osaka-2")
    assert row.outcome == "escalated"
    assert await h.reboots("ddi-osaka-2") == 0
    texts = [c.args["text"] for c in h.slack.posts()]
    assert any("Vendor report" in text and "0 packets" in text for text in texts)
    root = h.root("ddi-osaka-2")
    final = [c for c in h.slack.by("chat.update") if c.args["ts"] == root.ts][-1]
    assert "Escalated" in final.args["text"]


async def test_quiet_network_schedules_a_recheck(harness: Harness) -> None:
    h = harness
    await h.command("ddi-nagoya-3")
    await h.click(await h.prompt("Quiet"), "Quiet")
    await h.wait_for(lambda: any("runs again" in c.args["text"] for c in h.slack.posts()))
    row = await h.case("ddi-nagoya-3")
    assert row.phase == "recheck_wait" and row.open_key == "ddi-nagoya-3"
    async with h.runtime.engine.sessions() as session:
        timer = (await session.execute(select(TimerRow))).scalar_one()
    assert timer.kind == "recheck" and timer.fired_at is None
    delay = (timer.due_at - row.opened_at).total_seconds()
    assert 3500 < delay < 3700


async def test_unreachable_appliance_reports_clearly_and_does_not_stay_stuck(
    harness: Harness,
) -> None:
    h = harness
    await h.command("ddi-sapporo-4")
    retry = await h.prompt("Retry")
    assert "did not answer in time" in retry.args["text"]
    await h.click(retry, "Retry")
    again = await h.prompt("Retry", count=2)
    await h.click(again, "Escalate")
    first = await h.wait_closed("ddi-sapporo-4")
    assert first.outcome == "escalated"
    # the appliance is free again: a new check opens a new case
    await h.command("ddi-sapporo-4")
    await h.prompt("Retry", count=3)
    second = await h.case("ddi-sapporo-4")
    assert second.id != first.id and second.open_key == "ddi-sapporo-4"


async def test_only_approvers_can_approve_a_reboot(harness: Harness) -> None:
    h = harness
    await h.command("ddi-tokyo-1")
    await h.click(await h.prompt("Skip"), "Skip")
    approval = await h.prompt("Approve reboot")
    await h.click(approval, "Approve reboot", user=OPERATOR)
    refusal = await h.wait_for(lambda: h.slack.by("chat.postEphemeral"))
    assert refusal[0].args["user"] == OPERATOR
    assert "Only approvers" in refusal[0].args["text"]
    await h.runtime.engine.tasks.drain()
    row = await h.case("ddi-tokyo-1")
    assert row.phase == "await_reboot_approval"
    assert await h.reboots("ddi-tokyo-1") == 0
    # the buttons are still there for a real approver
    assert approval.ts not in [c.args["ts"] for c in h.slack.by("chat.update")]
    await h.click(approval, "Reject", user=APPROVER)
    assert (await h.wait_closed("ddi-tokyo-1")).outcome == "escalated"
    assert await h.reboots("ddi-tokyo-1") == 0


async def test_whoever_opened_the_case_cannot_approve_its_reboot(harness: Harness) -> None:
    h = harness
    await h.command("ddi-tokyo-1", user=APPROVER)  # an approver opens the case themself
    await h.click(await h.prompt("Skip"), "Skip", user=APPROVER)
    approval = await h.prompt("Approve reboot")
    await h.click(approval, "Approve reboot", user=APPROVER)
    refusal = await h.wait_for(lambda: h.slack.by("chat.postEphemeral"))
    assert refusal[0].args["user"] == APPROVER
    text = refusal[0].args["text"]
    assert "You opened this case" in text and "two-person rule" in text
    assert f"<!subteam^{APPROVER_GROUP}>" in text and f"<@{APPROVER}>" not in text  # who can
    await h.runtime.engine.tasks.drain()
    assert (await h.case("ddi-tokyo-1")).phase == "await_reboot_approval"
    assert await h.reboots("ddi-tokyo-1") == 0
    # a member of the approvers' user group may
    await h.click(approval, "Approve reboot", user=GROUP_MEMBER)
    row = await h.wait_closed("ddi-tokyo-1")
    assert row.outcome == "resolved" and await h.reboots("ddi-tokyo-1") == 1
    (approved,) = [d for d in await _decisions(h, row.id) if d.choice == "approve_reboot"]
    assert approved.user_id == GROUP_MEMBER
    looked_up = [c.args.get("usergroup") for c in h.slack.by("usergroups.users.list")]
    assert looked_up == [APPROVER_GROUP]


async def test_a_user_group_admits_its_members_only(harness: Harness) -> None:
    h = harness
    h.runtime.engine.ctx.roster.recheck_after = 0.2  # how soon a miss may read the group again
    await h.command("ddi-tokyo-1")
    await h.click(await h.prompt("Skip"), "Skip")
    approval = await h.prompt("Approve reboot")
    await h.click(approval, "Approve reboot", user="U0STRANGER")
    refusal = await h.wait_for(lambda: h.slack.by("chat.postEphemeral"))
    assert "Only approvers" in refusal[0].args["text"]
    assert f"<!subteam^{APPROVER_GROUP}>" in refusal[0].args["text"]
    # someone added to the group since is found at once (a miss reads the group again)
    h.slack.usergroups[APPROVER_GROUP].append("U0STRANGER")
    await asyncio.sleep(h.runtime.engine.ctx.roster.recheck_after)
    await h.click(approval, "Approve reboot", user="U0STRANGER")
    row = await h.wait_closed("ddi-tokyo-1")
    assert row.outcome == "resolved" and await h.reboots("ddi-tokyo-1") == 1
    assert len(h.slack.by("usergroups.users.list")) == 2


def _short_approval(h: Harness, ttl: float) -> None:
    engine = h.runtime.engine
    engine.config = replace(engine.config, timing=replace(engine.config.timing, approval_ttl=ttl))


async def test_approvers_are_reminded_once_and_the_question_stays_answerable(
    harness: Harness,
) -> None:
    h = harness
    _short_approval(h, 2.0)
    await h.command("ddi-tokyo-1", user=APPROVER)  # an approver opens it: not reminded
    await h.click(await h.prompt("Skip"), "Skip", user=APPROVER)
    approval = await h.prompt("Approve reboot")
    reminder = await h.wait_for(
        lambda: [c for c in h.slack.posts() if "Reminder" in c.args["text"]], limit=10
    )
    text = reminder[0].args["text"]
    assert f"<!subteam^{APPROVER_GROUP}>" in text and f"<@{APPROVER}>" not in text
    async with h.runtime.engine.sessions() as session:
        (expiry,) = (await session.execute(select(TimerRow.due_at).where(
            TimerRow.kind == "approval_expiry"))).scalars().all()  # fmt: skip
    assert f"expires at {expiry.strftime('%Y-%m-%d %H:%M UTC')}" in text  # the timer's own time
    assert reminder[0].args["thread_ts"] == h.root("ddi-tokyo-1").ts
    # the buttons of the question asked before the reminder still count
    await h.click(approval, "Approve reboot", user=GROUP_MEMBER)
    row = await h.wait_closed("ddi-tokyo-1")
    assert row.outcome == "resolved" and await h.reboots("ddi-tokyo-1") == 1
    assert len([c for c in h.slack.posts() if "Reminder" in c.args["text"]]) == 1
    async with h.runtime.engine.sessions() as session:
        kinds = (await session.execute(
            select(EventRow.kind).where(EventRow.case_id == row.id))).scalars().all()  # fmt: skip
    assert kinds.count("reminded") == 1


async def test_after_the_reminder_an_unanswered_approval_expires(harness: Harness) -> None:
    h = harness
    _short_approval(h, 1.0)
    await h.command("ddi-tokyo-1")
    await h.click(await h.prompt("Skip"), "Skip")
    await h.prompt("Approve reboot")
    row = await h.wait_closed("ddi-tokyo-1")
    assert row.outcome == "escalated" and await h.reboots("ddi-tokyo-1") == 0
    texts = [c.args["text"] for c in h.slack.posts()]
    reminded = [i for i, text in enumerate(texts) if "Reminder" in text]
    assert len(reminded) == 1 and f"<@{APPROVER}>" in texts[reminded[0]]
    assert any("Vendor report" in text for text in texts[reminded[0] :])


async def test_double_and_concurrent_approvals_reboot_exactly_once(harness: Harness) -> None:
    h = harness
    await h.command("ddi-tokyo-1")
    await h.click(await h.prompt("Skip"), "Skip")
    approval = await h.prompt("Approve reboot")
    clicks = await asyncio.gather(
        *(h.click(approval, "Approve reboot", user=APPROVER) for _ in range(4))
    )
    assert all(r.status_code == 200 for r in clicks)
    row = await h.wait_closed("ddi-tokyo-1")
    # a late retry of the same click changes nothing either
    await h.click(approval, "Approve reboot", user=APPROVER)
    await h.runtime.engine.tasks.drain()
    assert row.outcome == "resolved"
    assert await h.reboots("ddi-tokyo-1") == 1
    async with h.runtime.engine.sessions() as session:
        effects = await session.scalar(select(func.count()).select_from(SideEffectRow))
    assert effects == 1
    approvals = [d for d in await _decisions(h, row.id) if d.choice == "approve_reboot"]
    assert len(approvals) == 1
    refusals = [c.args["text"] for c in h.slack.by("chat.postEphemeral")]
    assert len(refusals) == 4
    assert all("already decided" in t or "no longer current" in t for t in refusals)


async def test_a_quiet_case_can_be_rechecked_now(harness: Harness) -> None:
    h = harness
    await h.command("ddi-nagoya-3")
    await h.click(await h.prompt("Quiet"), "Quiet")
    waiting = await h.prompt("Re-check now")
    await h.click(waiting, "Re-check now")
    again = await h.prompt("Quiet", count=2)  # step 2 ran again, and found nothing again
    assert again.args["thread_ts"] == h.root("ddi-nagoya-3").ts
    row = await h.case("ddi-nagoya-3")
    assert row.phase == "await_traffic_decision"


async def test_an_operator_can_escalate_a_case_at_any_time(harness: Harness) -> None:
    h = harness
    await h.command("ddi-nagoya-3")
    await h.click(await h.prompt("Quiet"), "Quiet")
    await h.prompt("Re-check now")
    ack = await h.command("escalate ddi-nagoya-3")
    assert ack.status_code == 200
    reply = await h.wait_for(lambda: h.slack.responses)
    assert "Case #1 for `ddi-nagoya-3` is escalated and closed." in reply[0]["text"]
    row = await h.wait_closed("ddi-nagoya-3")
    assert row.outcome == "escalated"
    texts = [c.args["text"] for c in h.slack.posts()]
    assert any("Vendor report" in text for text in texts)
    # nothing left open: a later escalate says so
    await h.command("escalate ddi-nagoya-3")
    later = await h.wait_for(lambda: len(h.slack.responses) > 1 and h.slack.responses)
    assert "Case not found" in later[1]["text"]


async def test_list_shows_open_cases_and_what_each_waits_for(harness: Harness) -> None:
    h = harness
    await h.command("list")
    assert "No open cases" in (await h.wait_for(lambda: h.slack.responses))[-1]["text"]
    await h.command("ddi-tokyo-1")
    await h.click(await h.prompt("Skip"), "Skip")
    await h.prompt("Approve reboot")
    await h.command("ddi-nagoya-3")
    await h.prompt("Quiet")
    await h.command("list")
    reply = await h.wait_for(lambda: len(h.slack.responses) > 1 and h.slack.responses)
    text = reply[-1]["text"]
    assert text.startswith("*Open cases* (2):")
    tokyo = next(line for line in text.splitlines() if "ddi-tokyo-1" in line)
    assert "Waiting for an approver (expires 20" in tokyo and "open since" in tokyo
    assert any("ddi-nagoya-3" in line for line in text.splitlines())


async def test_history_lists_past_cases_with_outcome_and_duration(harness: Harness) -> None:
    h = harness
    await h.command("history ddi-tokyo-1")
    first = (await h.wait_for(lambda: h.slack.responses))[-1]["text"]
    assert "has no closed cases yet" in first
    await h.command("ddi-tokyo-1")
    await h.click(await h.prompt("Skip"), "Skip")
    await h.click(await h.prompt("Approve reboot"), "Reject", user=APPROVER)
    row = await h.wait_closed("ddi-tokyo-1")
    await h.command("history DDI-Tokyo-1")  # any case, as everywhere
    reply = await h.wait_for(lambda: len(h.slack.responses) > 1 and h.slack.responses)
    text = reply[-1]["text"]
    assert "*Past cases of* `ddi-tokyo-1` (the latest 1):" in text
    assert f"#{row.id}" in text and "Escalated — the reboot was rejected" in text
    assert "took 0 min" in text
    await h.command("history ddi-nowhere")
    reply = await h.wait_for(lambda: len(h.slack.responses) > 2 and h.slack.responses)
    assert "Unknown appliance `ddi-nowhere`. Did you mean" in reply[-1]["text"]


async def test_a_slow_user_group_read_never_delays_the_ack(harness: Harness) -> None:
    h = harness
    engine = h.runtime.engine
    engine.config = replace(engine.config, operators=frozenset({"S0OPS"}))
    h.slack.usergroups["S0OPS"] = [OPERATOR]
    h.slack.slow["usergroups.users.list"] = [2.5]  # the first read: later than Slack waits
    answer = await h.command("ddi-tokyo-1")
    assert answer.status_code == 200 and "did not say in time" in answer.text
    assert (await h.case_count()) == 0  # nothing was done
    await h.wait_for(lambda: h.slack.by("usergroups.users.list"), limit=10)
    await asyncio.sleep(2.6)  # the read went on and its answer is kept
    answer = await h.command("ddi-tokyo-1")
    assert answer.status_code == 200 and "Opening a check of `ddi-tokyo-1`" in answer.text
    assert len(h.slack.by("usergroups.users.list")) == 1


async def test_status_probes_the_sensor_now_and_shows_its_cases(harness: Harness) -> None:
    h = harness
    await h.command(f"status {GUIDED}")
    text = (await h.wait_for(lambda: h.slack.responses))[-1]["text"]
    assert text.startswith(f"*Status of `{GUIDED}`* (at 20")
    console = next(line for line in text.splitlines() if "Console" in line)
    assert h.console.address in console and console.startswith("✅")  # probed live
    assert "no `syslog_ids`" in text and "No open case." in text
    # with its console gone, the next status says so
    await h.console.stop()
    await h.command("ddi-tokyo-1")
    await h.click(await h.prompt("Skip"), "Skip")
    await h.prompt("Approve reboot")
    await h.command(f"status {GUIDED}")
    later = (await h.wait_for(lambda: len(h.slack.responses) > 1 and h.slack.responses))[-1]
    console = next(line for line in later["text"].splitlines() if "Console" in line)
    assert console.startswith("❌")
    await h.command("status ddi-tokyo-1")
    tokyo = (await h.wait_for(lambda: len(h.slack.responses) > 2 and h.slack.responses))[-1]
    row = await h.case("ddi-tokyo-1")
    assert f"Open case: #{row.id} — Waiting for an approver (expires 20" in tokyo["text"]
    assert "nothing to probe" in tokyo["text"]
    await h.command("status ddi-nowhere")
    unknown = (await h.wait_for(lambda: len(h.slack.responses) > 3 and h.slack.responses))[-1]
    assert "Unknown appliance `ddi-nowhere`" in unknown["text"]


def _roots(h: Harness, appliance: str) -> list[Call]:
    return [c for c in h.slack.posts() if appliance in c.args["text"] and "thread_ts" not in c.args]


async def test_a_sensor_that_keeps_failing_says_so_on_its_new_case(harness: Harness) -> None:
    h = harness
    await h.command("ddi-tokyo-1")
    first = await h.wait_for(lambda: _roots(h, "ddi-tokyo-1"))
    assert "case for this sensor" not in first[0].args["text"]
    for count, nth in ((2, "2nd"), (3, "3rd")):
        await h.click(await h.prompt("Skip", count=count - 1), "Skip")
        await h.click(await h.prompt("Approve reboot", count=count - 1), "Reject", user=APPROVER)
        await h.wait_closed("ddi-tokyo-1")
        await h.command("ddi-tokyo-1")
        roots = await h.wait_for(
            lambda n=count: len(_roots(h, "ddi-tokyo-1")) >= n and _roots(h, "ddi-tokyo-1")
        )
        assert f"🔁 {nth} case for this sensor in 7 days" in roots[-1].args["text"]
    # the line stays when the root message is brought up to date
    ts = _roots(h, "ddi-tokyo-1")[-1].ts
    updates = await h.wait_for(lambda: [c for c in h.slack.by("chat.update") if c.args["ts"] == ts])
    assert "3rd case for this sensor" in updates[-1].args["text"]
    assert (await h.case("ddi-tokyo-1")).recent_cases == 3
