"""The backoff between tries of something that failed in passing (each channel's pace of
Slack messages is shared by every replica: ``storage.channel_pace``)."""

from __future__ import annotations

import random
from collections.abc import Callable


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
