"""The case file: case-N.md and case-N.json uploaded into the case thread when the case closes
and on ``/ddi-check export N``, through Slack's v2 upload flow, in the case's language."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from conftest import APPROVER, CHANNEL, OPERATOR, Harness

from storage.chain import ChainEvent, verify


def case_files(h: Harness, thread_ts: str) -> dict[str, bytes]:
    """File name -> uploaded bytes, for every file uploaded into the thread."""
    names = {
        c.result["file_id"]: c.args["filename"] for c in h.slack.by("files.getUploadURLExternal")
    }
    found: dict[str, bytes] = {}
    for call in h.slack.by("files.completeUploadExternal"):
        if call.args.get("thread_ts") == thread_ts:
            assert call.args["channel_id"] == CHANNEL
            for entry in call.args["files"]:
                found[names[entry["id"]]] = h.slack.uploads[entry["id"]]
    return found


def markdown_of(files: dict[str, bytes], case_id: int) -> str:
    return files[f"case-{case_id}.md"].decode()


async def test_a_closed_case_posts_its_case_file_in_the_thread(harness: Harness) -> None:
    h = harness
    await h.command("ddi-tokyo-1")
    await h.click(await h.prompt("Collect"), "Collect")
    await h.click(await h.prompt("Approve reboot"), "Approve reboot", user=APPROVER)
    row = await h.wait_closed("ddi-tokyo-1")
    files = await h.wait_for(lambda: len(case_files(h, h.root("ddi-tokyo-1").ts)) >= 2 and
                             case_files(h, h.root("ddi-tokyo-1").ts))  # fmt: skip
    assert set(files) == {f"case-{row.id}.md", f"case-{row.id}.json"}
    data = json.loads(files[f"case-{row.id}.json"])
    assert (data["schema"], data["version"]) == ("ddi-bot/case-file", 1)
    assert data["case"]["id"] == row.id and data["case"]["outcome"] == "resolved"
    assert data["case"]["reason"] == "verified_after_reboot"
    assert data["case"]["requested_by"] == OPERATOR
    assert data["appliance"]["name"] == "ddi-tokyo-1"
    first = data["steps"][0]
    assert first["step"] == 1 and first["result"]["verified"] is False
    assert "Threat Management Services Portal" in first["result"]["message"]
    decisions = [(d["choice"], d["by"]) for d in data["decisions"]]
    assert decisions == [("collect", OPERATOR), ("approve_reboot", APPROVER)]
    assert all(isinstance(d["case_version"], int) for d in data["decisions"])
    # the approval names the evidence the question showed (its digest), the others none
    collect, approve = data["decisions"]
    assert collect["evidence"] is None and len(approve["evidence"]) == 16
    assert approve["evidence"] in markdown_of(files, row.id)
    assert [r["outcome"] for r in data["reboots"]] == ["sent"]
    # the debug bundle: name, size and the SHA-256 of what the bot kept
    (bundle,) = (h.runtime.engine.config.artifacts / f"case-{row.id}").iterdir()
    (artifact,) = data["artifacts"]
    assert artifact["name"] == bundle.name and artifact["size"] == bundle.stat().st_size
    assert artifact["sha256"] == hashlib.sha256(bundle.read_bytes()).hexdigest()
    # the whole timeline, with a chain that verifies on its own and ends in the head given
    timeline = data["timeline"]
    assert timeline[0]["kind"] == "case_opened" and timeline[-1]["kind"] == "case_closed"
    events = [
        ChainEvent(i, row.id, e["seq"], datetime.fromisoformat(e["at"]), e["kind"], e["actor"],
               e["data"], timeline[i - 1]["hash"] if i else "0" * 64, e["hash"])
        for i, e in enumerate(timeline)
    ]  # fmt: skip
    assert data["chain"]["events"] == len(timeline)
    assert verify(events, data["chain"]["events"], data["chain"]["head"]).intact
    markdown = files[f"case-{row.id}.md"].decode()
    assert markdown.startswith(f"# Case file #{row.id}: ddi-tokyo-1")
    assert data["chain"]["head"] in markdown and bundle.name in markdown
    # nothing of the bot's own host: its data directory is in no record
    assert str(h.runtime.engine.config.artifacts) not in files[f"case-{row.id}.json"].decode()
    assert str(h.runtime.engine.config.artifacts) not in markdown
    for heading in ("## Steps", "## Decisions and approvals", "## Reboots sent", "## Timeline"):
        assert heading in markdown


async def test_export_posts_the_case_file_again_in_the_case_language(harness: Harness) -> None:
    h = harness
    h.slack.locales[OPERATOR] = "ja-JP"
    await h.command("ddi-tokyo-1")
    debug = await h.prompt("デバッグログを収集")
    row = await h.case("ddi-tokyo-1")
    assert row.lang == "ja"
    await h.command(f"export {row.id}")  # an open case too: as it is now
    root = h.root("ddi-tokyo-1")
    # both files (the Markdown and the JSON go out one after the other)
    files = await h.wait_for(lambda: len(case_files(h, root.ts)) >= 2 and case_files(h, root.ts))
    markdown = files[f"case-{row.id}.md"].decode()
    assert markdown.startswith(f"# ケースファイル #{row.id}: ddi-tokyo-1")
    assert "## 手順" in markdown and "## タイムライン" in markdown
    data = json.loads(files[f"case-{row.id}.json"])
    assert data["case"]["outcome"] is None and data["case"]["language"] == "ja"
    reply = await h.wait_for(lambda: h.slack.responses)
    assert "ケースファイル" in reply[-1]["text"]
    await h.click(debug, "スキップ")  # the case goes on after an export
    await h.prompt("再起動を承認")


async def test_export_of_a_case_that_does_not_exist_says_so(harness: Harness) -> None:
    h = harness
    await h.command("export 4242")
    reply = await h.wait_for(lambda: h.slack.responses)
    assert "Case not found" in reply[-1]["text"] and "4242" in reply[-1]["text"]
    await h.command("export tokyo")
    reply = await h.wait_for(lambda: len(h.slack.responses) > 1 and h.slack.responses)
    assert "Case not found" in reply[-1]["text"]
    assert h.slack.by("files.completeUploadExternal") == []
