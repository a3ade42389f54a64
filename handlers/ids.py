"""Every Slack identifier the app uses: checked against manifest.yml by a test."""

from __future__ import annotations

import re
from enum import StrEnum

from bot.runbook import Choice


class Command(StrEnum):
    DDI_CHECK = "/ddi-check"


DECIDE_PREFIX = "ddi_decide:"
DECIDE_PATTERN = re.compile(r"^ddi_decide:[a-z_]+$")


def decide_action_id(choice: Choice) -> str:
    return f"{DECIDE_PREFIX}{choice.value}"


ACTION_IDS = tuple(decide_action_id(choice) for choice in Choice)
