"""The backoff between tries of something that failed in passing, and each channel's pace of
Slack messages in one process (with replicas it is shared through ``storage.channel_pace``)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from storage.channel_pace import paused, slot


def backoff(
    attempts: int,
    first: float = 1.0,
    cap: float = 120.0,
    jitter: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait after ``attempts`` failures: first, twice that, … up to ``cap``, times
    0.5–1 (the jitter spreads out the retries of many messages that failed together)."""
    base: float = min(cap, first * 2 ** max(0, attempts - 1))
    return base * (0.5 + 0.5 * jitter())


class LocalPace:
    """Each channel's pace, kept by this process (the same GCRA as the shared one)."""

    def __init__(self) -> None:
        self.tat: dict[str, datetime] = {}

    def reserve(self, channel: str, now: datetime, interval: timedelta, burst: int) -> float:
        """0.0: a message may go now (its slot is taken); else the seconds to wait."""
        self.tat[channel], wait = slot(self.tat.get(channel, now), now, interval, burst)
        return wait

    def pause(
        self, channel: str, now: datetime, seconds: float, interval: timedelta, burst: int
    ) -> None:
        self.tat[channel] = paused(self.tat.get(channel, now), now, seconds, interval, burst)


def real_now() -> datetime:
    """Slack's limits are in real time, not the engine's (a test's) clock."""
    return datetime.now(UTC)
