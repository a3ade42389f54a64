from __future__ import annotations

import pytest

from bot.i18n import MESSAGES, placeholders, t
from bot.runbook import Choice, DecisionPoint, Phase, Step
from bot.runbook.model import StepStatus


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_message_exists_in_english_and_japanese(key: str) -> None:
    entry = MESSAGES[key]
    assert set(entry) == {"en", "ja"}
    assert entry["en"].strip() and entry["ja"].strip()
    assert placeholders(entry["en"]) == placeholders(entry["ja"]), key


def test_every_enum_value_shown_to_people_has_a_text() -> None:
    keys = set(MESSAGES)
    assert {f"choice.{c.value}" for c in Choice} <= keys
    assert {f"step.{s.value}" for s in Step} <= keys
    assert {f"status.{s.value}" for s in StepStatus} <= keys
    assert {f"prompt.{p.value}" for p in DecisionPoint} <= keys
    assert {f"case.{p.value}" for p in (Phase.RESOLVED, Phase.ESCALATED)} <= keys


def test_english_button_labels_contain_the_words_operators_scan_for() -> None:
    words = {
        Choice.QUIET: "Quiet",
        Choice.CAPTURE: "Capture",
        Choice.CAPTURE_AGAIN: "Capture again",
        Choice.ESCALATE: "Escalate",
        Choice.COLLECT: "Collect",
        Choice.SKIP: "Skip",
        Choice.APPROVE_REBOOT: "Approve reboot",
        Choice.REJECT_REBOOT: "Reject",
    }
    for choice, word in words.items():
        assert word in t("en", f"choice.{choice.value}")


def test_unknown_language_falls_back_to_english() -> None:
    assert t("fr", "choice.skip") == "Skip"
    assert t("ja", "choice.skip") == "スキップ"
