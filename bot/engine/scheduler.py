"""Fires stored timers when due; claiming is a DB compare-and-swap, so none fires twice.
Also sweeps up files whose processing stopped (their claim's lease ran out)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from functools import partial

from bot.engine.core import Engine
from bot.runbook.messages import TimerFired, TimerKind
from storage import timers

log = logging.getLogger(__name__)


def _landed(in_flight: set[int], timer_id: int, _task: object) -> None:
    in_flight.discard(timer_id)


async def fire_due(engine: Engine, in_flight: set[int]) -> int:
    """Hand every due timer to ``Engine.observe``, which claims it in the same transaction as
    the transition it causes; returns how many were handed over.

    ``in_flight`` (the caller's, one per timer loop) holds timers handed to a task that has not
    finished, so a slow transition is not handed over twice by this loop.
    """
    async with engine.sessions() as session:
        due = list(await timers.due_timers(session, engine.clock()))
    started = 0
    for timer in due:
        if timer.id in in_flight:
            continue
        in_flight.add(timer.id)
        obs = TimerFired(TimerKind(timer.kind))
        task = engine.tasks.spawn(
            engine.observe(timer.case_id, timer.case_version, obs, timer_id=timer.id),
            f"timer-{timer.id}",
        )
        task.add_done_callback(partial(_landed, in_flight, timer.id))
        started += 1
    return started


async def run_timers(engine: Engine, max_sleep: float = 5.0) -> None:
    """Forever: fire due timers, then sleep until the next is due or a new one is added.

    Also, every quarter of the upload lease, take over files whose processing stopped.
    """
    in_flight: set[int] = set()
    loop = asyncio.get_running_loop()
    next_sweep = loop.time() + engine.config.upload_lease / 4
    while True:
        try:
            await fire_due(engine, in_flight)
            if loop.time() >= next_sweep:
                next_sweep = loop.time() + engine.config.upload_lease / 4
                await engine.uploads.sweep()
            async with engine.sessions() as session:
                nxt = await timers.next_due(session)
        except Exception:
            log.exception("timer loop: database error; retrying")
            nxt = None
        delay = max_sleep
        if nxt is not None:
            delay = min(max_sleep, max(0.0, (nxt - engine.clock()).total_seconds()))
        engine.timers_changed.clear()
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
        # that arrives as the event is set, and then the loop would never stop
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await engine.timers_changed.wait()
