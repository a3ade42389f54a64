"""The case file's two forms, from a record built by hand."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.casefile import (
    CaseRecord,
    DecisionRecord,
    RebootRecord,
    StepRun,
    TimelineEvent,
    attachments,
    to_json,
    to_markdown,
)
from bot.inventory import Appliance

T0 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


def record(lang: str = "en", inventory: Appliance | None = None) -> CaseRecord:
    return CaseRecord(
        case_id=12, appliance="ddi|osaka", lang=lang, requested_by="U1", opened_at=T0,
        closed_at=T0 + timedelta(minutes=42), phase="escalated", outcome="escalated",
        reason="reboot_rejected", version=9, inventory=inventory,
        steps=[
            StepRun(1, T0, T0, "problem", {"verified": False, "message": "Unable | to connect"}),
            StepRun(4, T0, T0, "ok", {"filename": "debug.zip", "size": 10, "sha256": "ab" * 32,
                                      "stored": "/var/lib/ddi-bot/case-12"}),
        ],
        decisions=[DecisionRecord("reboot", "reject_reboot", "U2", T0, 8)],
        reboots=[RebootRecord("reboot:12:1", None, T0, None)],
        events=[
            TimelineEvent(1, T0, "case_opened", "U1", {}, "1" * 64),
            TimelineEvent(2, T0, "maintenance", "U1", {"answer": "no", "notes": "none"}, "2" * 64),
            TimelineEvent(3, T0, "artifact", "U3",
                          {"name": "capture.pcap", "size": 99, "sha256": "cd" * 32}, "3" * 64),
        ],
        chain_events=3, chain_head="3" * 64,
    )  # fmt: skip


def test_the_json_is_versioned_and_leaves_out_paths_of_the_bot_host() -> None:
    data = to_json(record(inventory=Appliance(name="ddi|osaka", tmsp_servers=("a:443",))))
    assert (data["schema"], data["version"]) == ("ddi-bot/case-file", 1)
    assert data["appliance"]["tmsp_servers"] == ["a:443"]
    assert "stored" not in data["steps"][1]["result"]
    assert data["maintenance"] == {"answer": "no", "notes": "none", "by": "U1",
                                   "at": T0.isoformat()}  # fmt: skip
    assert [(a["name"], a["how"], a["by"]) for a in data["artifacts"]] == [
        ("capture.pcap", "posted", "U3"),
        ("debug.zip", "collected", None),
    ]
    assert data["reboots"] == [{"key": "reboot:12:1", "outcome": None,
                                "recorded_at": T0.isoformat(), "completed_at": None}]  # fmt: skip
    assert data["chain"] == {"events": 3, "head": "3" * 64}
    json.dumps(data)  # plain JSON all the way down


def test_markdown_in_english_and_japanese_with_outside_text_kept_in_its_cells() -> None:
    english = to_markdown(record())
    assert english.startswith("# Case file #12: ddi|osaka")
    assert "No longer in the inventory." in english
    assert "Unable \\| to connect" in english  # a pipe in a value cannot break the table
    assert "Escalated (the reboot was rejected)" in english
    assert "`reboot:12:1`: outcome unknown" in english
    assert "/var/lib/ddi-bot" not in english
    japanese = to_markdown(record("ja"))
    assert japanese.startswith("# ケースファイル #12")
    assert "## 判断と承認" in japanese and "99 バイト" in japanese and "スレッドに投稿" in japanese


def test_the_two_attachments() -> None:
    md, js = attachments(record())
    assert (md.filename, js.filename) == ("case-12.md", "case-12.json")
    assert json.loads(js.content)["case"]["id"] == 12
    assert md.content.decode("utf-8") == to_markdown(record())
