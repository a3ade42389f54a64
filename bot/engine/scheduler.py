"""Fires stored timers when due; claiming is a DB compare-and-swap, so none fires twice."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.engine.core import Engine
from bot.runbook.messages import TimerFired, TimerKind
from storage import timers

log = logging.getLogger(__name__)


async def fire_due(engine: Engine) -> int:
    """Fire every due timer once; returns how many this process fired."""
    now = engine.clock()
    async with engine.sessions() as session:
        due = list(await timers.due_timers(session, now))
    fired = 0
    for timer in due:
        async with engine.sessions.begin() as session:
            claimed = await timers.claim(session, timer.id, now)
        if not claimed:
            continue
        fired += 1
        engine.tasks.spawn(
            engine.observe(timer.case_id, timer.case_version, TimerFired(TimerKind(timer.kind))),
            f"timer-{timer.id}",
        )
    return fired


async def run_timers(engine: Engine, max_sleep: float = 5.0) -> None:
    """Forever: fire due timers, then sleep until the next is due or a new one is added."""
    while True:
        try:
            await fire_due(engine)
            async with engine.sessions() as session:
                nxt = await timers.next_due(session)
        except Exception:
            log.exception("timer loop: database error; retrying")
            nxt = None
        delay = max_sleep
        if nxt is not None:
            delay = min(max_sleep, max(0.0, (nxt - engine.clock()).total_seconds()))
        engine.timers_changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(engine.timers_changed.wait(), timeout=delay)
