"""Every Slack identifier the app uses: checked against manifest.yml by a test."""

from __future__ import annotations

import re
from enum import StrEnum

from bot.guidance import GuideAction
from bot.runbook import Choice
from bot.watch.alert import OPEN_CASE


class Command(StrEnum):
    DDI_CHECK = "/ddi-check"


DECIDE_PREFIX = "ddi_decide:"
DECIDE_PATTERN = re.compile(r"^ddi_decide:[a-z_]+$")


def decide_action_id(choice: Choice) -> str:
    return f"{DECIDE_PREFIX}{choice.value}"


GUIDE_PREFIX = "ddi_guide:"
GUIDE_PATTERN = re.compile(r"^ddi_guide:[a-z_]+$")


def guide_action_id(action: str) -> str:
    return f"{GUIDE_PREFIX}{action}"


ALERT_PREFIX = "ddi_alert:"
ALERT_OPEN_CASE = f"{ALERT_PREFIX}open_case"  # an alert's "Open a case" button


def button_action_id(action: str) -> str:
    """The action id of a message's button: an alert's, or a guided step's answer."""
    return ALERT_OPEN_CASE if action == OPEN_CASE else guide_action_id(action)


def button_block_id(action: str, value: str) -> str:
    """The block id of a message's buttons: their kind (alert, guided step) and value."""
    return f"{ALERT_PREFIX if action == OPEN_CASE else GUIDE_PREFIX}{value}"


class View(StrEnum):
    """Modal callback ids."""

    CONNECTION_MESSAGE = "ddi_connection_message"
    DETECTION_COUNT = "ddi_detection_count"


ACTION_IDS = tuple(decide_action_id(choice) for choice in Choice)
GUIDE_ACTION_IDS = tuple(guide_action_id(action) for action in GuideAction)


EVIDENCE_PATTERN = re.compile(r"^[0-9a-f]{16}$")


def decision_value(case_id: int, version: int, evidence: str | None) -> str:
    """A decision button's value: "ID:VERSION", and the reboot's evidence digest after it."""
    ref = f"{case_id}:{version}"
    return ref if evidence is None else f"{ref}:{evidence}"


def decision_ref(text: object) -> tuple[int, int, str | None] | None:
    """(case id, case version, evidence digest or None) from a decision button's value."""
    parts = str(text).split(":")
    if len(parts) not in (2, 3) or (len(parts) == 3 and not EVIDENCE_PATTERN.match(parts[2])):
        return None
    found = case_ref(f"{parts[0]}:{parts[1]}")
    return None if found is None else (*found, parts[2] if len(parts) == 3 else None)


def case_ref(text: object) -> tuple[int, int] | None:
    """(case id, case version) from a button value or modal metadata "ID:VERSION", or None."""
    try:
        case_text, version_text = str(text).split(":", 1)
        case_id, version = int(case_text), int(version_text)
    except ValueError:
        return None
    if not (0 < case_id < 2**31 and 0 < version < 2**31):  # fits the database's integers
        return None
    return case_id, version
