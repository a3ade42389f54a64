"""Every Slack identifier the app uses: checked against manifest.yml by a test."""

from __future__ import annotations

import re
from enum import StrEnum

from bot.guidance import GuideAction
from bot.runbook import Choice


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


class View(StrEnum):
    """Modal callback ids."""

    CONNECTION_MESSAGE = "ddi_connection_message"
    DETECTION_COUNT = "ddi_detection_count"


ACTION_IDS = tuple(decide_action_id(choice) for choice in Choice)
GUIDE_ACTION_IDS = tuple(guide_action_id(action) for action in GuideAction)
