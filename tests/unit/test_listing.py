"""The texts of /ddi-check list and history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.listing import OpenEntry, PastCase, history_text, open_cases_text
from bot.presenter import CaseView
from bot.runbook import CaseState, Phase
from handlers.style import SLACK

T0 = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


def view(case_id: int, appliance: str, phase: Phase, lang: str = "en") -> CaseView:
    return CaseView(case_id, appliance, "U1", lang, CaseState(phase=phase), 4)


def test_open_cases_in_order_with_deadlines_and_escaped_names() -> None:
    entries = [
        OpenEntry(view(9, "ddi-<b>", Phase.AWAIT_REBOOT_APPROVAL), T0, T0 + timedelta(hours=4)),
        OpenEntry(view(3, "ddi-kobe", Phase.RECHECK_WAIT), T0, T0 + timedelta(hours=6)),
    ]
    text = open_cases_text("en", entries, SLACK)
    lines = text.splitlines()
    assert lines[0] == "*Open cases* (2):"
    assert lines[1].startswith("• #3 `ddi-kobe` — ") and "2026-12-02 09:00 UTC" in lines[1]
    assert "`ddi-&lt;b&gt;`" in lines[2] and "2026-12-02 07:00 UTC" in lines[2]
    assert open_cases_text("ja", [], SLACK) == "対応中のケースはありません。"


def test_history_with_outcomes_reasons_and_durations() -> None:
    past = [
        PastCase(12, T0, T0 + timedelta(minutes=42), "resolved", "verified_after_reboot"),
        PastCase(7, T0, T0 + timedelta(hours=5, minutes=30), "escalated", "approval_expired"),
        PastCase(2, T0, None, None, None),
    ]
    text = history_text("en", "ddi-kobe", past, SLACK)
    assert "(took 42 min)" in text and "(took 5.5 h)" in text and "#2" in text
    japanese = history_text("ja", "ddi-kobe", past, SLACK)
    assert "過去のケース" in japanese and "所要 42 分" in japanese and "所要 5.5 時間" in japanese
    assert "no closed cases" in history_text("en", "x", [], SLACK)
