"""Pacing: a token bucket per channel (Slack takes about one message per second per channel,
with short bursts; a rate limit answer pauses the channel), and the backoff between tries."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable


class Bucket:
    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = float(max(1, burst))
        self.clock = clock
        self.tokens = self.burst
        self.stamp = clock()
        self.paused_until = 0.0

    def _refill(self) -> float:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return now

    def wait_for(self) -> float:
        """Seconds until a message may go (0: now)."""
        now = self._refill()
        paused = max(0.0, self.paused_until - now)
        short = 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate
        return max(paused, short)

    async def take(self) -> None:
        """Wait for a token (sleeping, not polling: the wait is computed)."""
        delay = self.wait_for()
        while delay > 0:
            await asyncio.sleep(delay)
            delay = self.wait_for()
        self.tokens -= 1.0

    def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, self.clock() + seconds)


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
