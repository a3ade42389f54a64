"""A reboot that needs two approvers, and approvals bound to the evidence the approver read:
signed clicks and a file posted in the thread, against the running app."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from conftest import APPROVER, CHANNEL, GROUP_MEMBER, OPERATOR, Harness
from sqlalchemy import select

from storage import uploads
from storage.models import DecisionRow, EventRow, TimerRow


def _quorum(h: Harness, required: int) -> None:
    engine = h.runtime.engine
    timing = replace(engine.config.timing, approvals_required=required)
    engine.config = replace(engine.config, timing=timing)


async def _events(h: Harness, case_id: int, kind: str) -> list[EventRow]:
    async with h.runtime.engine.sessions() as session:
        rows = await session.execute(
            select(EventRow).where(EventRow.case_id == case_id, EventRow.kind == kind)
        )
        return list(rows.scalars())


async def _expiries(h: Harness) -> list[tuple[object, int]]:
    async with h.runtime.engine.sessions() as session:
        rows = await session.execute(
            select(TimerRow.due_at, TimerRow.case_version).where(
                TimerRow.kind == "approval_expiry", TimerRow.fired_at.is_(None)
            )
        )
        return [(due, version) for due, version in rows.all()]


def _refusals(h: Harness, user: str) -> list[str]:
    return [c.args["text"] for c in h.slack.by("chat.postEphemeral") if c.args["user"] == user]


async def test_two_distinct_approvers_are_needed_and_a_repeated_click_counts_once(
    harness: Harness,
) -> None:
    h = harness
    _quorum(h, 2)
    await h.command("ddi-tokyo-1")
    await h.click(await h.prompt("Skip"), "Skip")
    first = await h.prompt("Approve reboot")
    assert "Approvals: 0 of 2 distinct approvers." in first.args["text"]
    (before,) = await _expiries(h)
    await h.click(first, "Approve reboot", user=APPROVER)
    again = await h.prompt("Approve reboot", count=2)  # asked again, showing who approved
    assert f"Approvals: 1 of 2 distinct approvers — <@{APPROVER}>." in again.args["text"]
    await h.runtime.engine.tasks.drain()
    assert await h.reboots("ddi-tokyo-1") == 0
    assert (await h.case("ddi-tokyo-1")).phase == "await_reboot_approval"
    # the deadline did not start over: the same timer, carried to the new version
    (after,) = await _expiries(h)
    assert after[0] == before[0] and after[1] == before[1] + 1

    # the same approver again, on the new question and on the old one: counted once
    await h.click(again, "Approve reboot", user=APPROVER)
    await h.click(first, "Approve reboot", user=APPROVER)
    await h.wait_for(lambda: len(_refusals(h, APPROVER)) >= 2)
    assert all("already approved" in text and "1 more" in text for text in _refusals(h, APPROVER))
    await h.runtime.engine.tasks.drain()
    assert await h.reboots("ddi-tokyo-1") == 0

    # a second approver who read the first question (same evidence) completes the quorum
    await h.click(first, "Approve reboot", user=GROUP_MEMBER)
    row = await h.wait_closed("ddi-tokyo-1")
    assert row.outcome == "resolved" and await h.reboots("ddi-tokyo-1") == 1
    approved = select(DecisionRow).where(
        DecisionRow.case_id == row.id, DecisionRow.choice == "approve_reboot"
    )
    async with h.runtime.engine.sessions() as session:
        decided = (await session.execute(approved)).scalars().all()
    assert [d.user_id for d in decided] == [APPROVER, GROUP_MEMBER]
    approvals = [e for e in await _events(h, row.id, "decision") if e.data["point"] == "reboot"]
    assert [e.actor for e in approvals] == [APPROVER, GROUP_MEMBER]
    assert len({e.data["evidence"] for e in approvals}) == 1  # both decided on the same
    assert approvals[1].data["version"] == approvals[0].data["version"] + 1
    assert approvals[1].data["shown"] == approvals[0].data["version"]  # read the older one
    # each copy of the question shows the approval it took: the older one keeps the first
    # approver's, the one the second approval counted for shows the second (no live buttons)
    updates = await h.wait_for(
        lambda: (
            {c.args["ts"]: c.args for c in h.slack.by("chat.update")}.get(again.ts)
            and {c.args["ts"]: c.args for c in h.slack.by("chat.update")}
        )
    )
    assert f"<@{APPROVER}>" in updates[first.ts]["text"]
    assert "Approval 1 of 2: the reboot waits for another approver" in updates[first.ts]["text"]
    assert "Approval 2 of 2" not in updates[again.ts]["text"]  # that one sent it
    assert f"<@{GROUP_MEMBER}>" not in updates[first.ts]["text"]
    assert f"<@{GROUP_MEMBER}>" in updates[again.ts]["text"]
    assert all(b.get("type") != "actions" for b in updates[again.ts]["blocks"])


async def test_a_late_bundle_makes_an_earlier_approval_stale_and_asks_again(
    harness: Harness,
) -> None:
    h = harness
    _quorum(h, 2)
    await h.command("ddi-tokyo-1")
    await h.click(await h.prompt("Skip"), "Skip")
    first = await h.prompt("Approve reboot")
    await h.click(first, "Approve reboot", user=APPROVER)
    await h.prompt("Approve reboot", count=2)
    root = h.root("ddi-tokyo-1")

    # someone posts the debug bundle after all: new evidence, the question is asked again
    await h.post_file("debug-bundle.tar.gz", b"\x1f\x8b" + b"logs" * 100, root.ts, user=OPERATOR)
    third = await h.prompt("Approve reboot", count=3)
    assert "debug-bundle.tar.gz" in third.args["text"]
    assert "Approvals: 0 of 2 distinct approvers." in third.args["text"]  # none carried over

    # an approval on the question read before the file is refused, and nothing is sent
    await h.click(first, "Approve reboot", user=GROUP_MEMBER)
    refusal = await h.wait_for(lambda: _refusals(h, GROUP_MEMBER))
    assert "changed since you read this question" in refusal[0]
    await h.runtime.engine.tasks.drain()
    assert await h.reboots("ddi-tokyo-1") == 0
    assert (await h.case("ddi-tokyo-1")).phase == "await_reboot_approval"

    # on the new question, two approvers again
    await h.click(third, "Approve reboot", user=GROUP_MEMBER)
    await h.prompt("Approve reboot", count=4)
    await h.click(third, "Approve reboot", user=APPROVER)
    row = await h.wait_closed("ddi-tokyo-1")
    assert row.outcome == "resolved" and await h.reboots("ddi-tokyo-1") == 1
    approvals = [e for e in await _events(h, row.id, "decision") if e.data["point"] == "reboot"]
    assert [e.actor for e in approvals] == [APPROVER, GROUP_MEMBER, APPROVER]
    assert approvals[0].data["evidence"] != approvals[1].data["evidence"]
    assert approvals[1].data["evidence"] == approvals[2].data["evidence"]


async def test_one_approver_is_still_enough_by_default(harness: Harness) -> None:
    h = harness
    await h.command("ddi-tokyo-1")
    await h.click(await h.prompt("Skip"), "Skip")
    approval = await h.prompt("Approve reboot")
    assert "distinct approvers" not in approval.args["text"]
    assert "*Evidence*" in approval.args["text"]
    await h.click(approval, "Approve reboot", user=APPROVER)
    row = await h.wait_closed("ddi-tokyo-1")
    assert row.outcome == "resolved" and await h.reboots("ddi-tokyo-1") == 1


async def test_two_approvers_clicking_the_same_question_at_once_both_count(
    harness: Harness,
) -> None:
    h = harness
    _quorum(h, 2)
    await h.command("ddi-tokyo-1")
    await h.click(await h.prompt("Skip"), "Skip")
    first = await h.prompt("Approve reboot")
    clicks = await asyncio.gather(
        h.click(first, "Approve reboot", user=APPROVER),
        h.click(first, "Approve reboot", user=GROUP_MEMBER),
    )
    assert all(r.status_code == 200 for r in clicks)
    row = await h.wait_closed("ddi-tokyo-1")
    assert row.outcome == "resolved" and await h.reboots("ddi-tokyo-1") == 1
    approvals = [e for e in await _events(h, row.id, "decision") if e.data["point"] == "reboot"]
    assert sorted(e.actor or "" for e in approvals) == sorted([APPROVER, GROUP_MEMBER])
    assert not h.slack.by("chat.postEphemeral")  # nobody was told their click did not count


async def test_a_bundle_read_while_an_approval_lands_still_counts(harness: Harness) -> None:
    """The file was claimed at the question's version; an approval moved the case on while it
    was downloaded and read: it is new evidence all the same, not 'already answered'."""
    h = harness
    _quorum(h, 2)
    engine = h.runtime.engine
    await h.command("ddi-tokyo-1")
    await h.click(await h.prompt("Skip"), "Skip")
    first = await h.prompt("Approve reboot")
    claimed_at = await h.case("ddi-tokyo-1")  # the file is claimed now, at this version
    file_id = h.slack.add_file(
        "late.tar.gz",
        b"\x1f\x8b" + b"logs" * 50,
        channel=CHANNEL,
        thread_ts=first.args["thread_ts"],
        user=OPERATOR,
    )
    assert engine.ctx.files is not None
    shared = await engine.ctx.files.info(file_id)
    async with engine.ctx.db.write() as session:
        assert await uploads.claim(
            session, file_id=file_id, case_id=claimed_at.id, case_version=claimed_at.version,
            step=4, user_id=OPERATOR, name=shared.name, size=shared.size,
            owner=engine.uploads.owner, now=engine.ctx.clock(),
        )  # fmt: skip
    await h.click(first, "Approve reboot", user=APPROVER)  # lands first
    await h.prompt("Approve reboot", count=2)
    await engine.uploads.process(shared, claimed_at, claimed_at.version)
    third = await h.prompt("Approve reboot", count=3)
    assert "late.tar.gz" in third.args["text"]
    assert "Approvals: 0 of 2 distinct approvers." in third.args["text"]
    assert not any("already" in c.args["text"] for c in h.slack.posts())
    async with engine.ctx.db.read() as session:
        upload = await uploads.get(session, file_id)
    assert upload is not None and upload.status == "done"
