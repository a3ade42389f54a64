"""Answer Slack after what a person did is recorded, so that a crash right after the answer
cannot lose it; but never later than Slack allows (3 s): past ``ACK_WITHIN`` the work goes on
in the background and Slack is answered anyway."""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.async_app import AsyncAck

ACK_WITHIN = 2.0  # seconds; Slack gives up on an answer after 3


async def after(task: asyncio.Task[Any], ack: AsyncAck) -> None:
    """Acknowledge once ``task`` is done, or after ``ACK_WITHIN`` seconds if it is not."""
    await asyncio.wait({task}, timeout=ACK_WITHIN)
    await ack()
