"""Fires stored timers when due: each is claimed in the same unit of work as the transition it
causes, so none fires twice and a crash before the commit leaves it due."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from functools import partial

from bot.engine.context import Context
from bot.engine.dispatch import Dispatch
from bot.engine.note import Note
from bot.engine.tasks import TaskTracker
from bot.engine.unit import Applied, apply
from bot.logs import about_case
from bot.runbook.messages import TimerFired, TimerKind
from storage import timers

log = logging.getLogger(__name__)
MIN_SLEEP = 0.05  # seconds between two looks at the timers table, at the least


def _landed(in_flight: set[int], timer_id: int, _task: object) -> None:
    in_flight.discard(timer_id)


async def fire(ctx: Context, dispatch: Dispatch, timer_id: int, case_id: int, version: int,
               kind: str) -> None:  # fmt: skip
    with about_case(case_id):
        applied = await apply(
            ctx, case_id, version, TimerFired(TimerKind(kind)), Note(timer_id=timer_id)
        )
    if isinstance(applied, Applied):
        dispatch.submit(applied.work)
    else:  # the case moved on: the timer is spent (unless it was carried to the new version)
        async with ctx.db.write() as session:
            await timers.spend(session, timer_id, version, ctx.clock())


async def fire_due(
    ctx: Context, dispatch: Dispatch, tasks: TaskTracker, in_flight: set[int]
) -> int:
    """Hand every due timer to a task; how many. ``in_flight`` (one per loop) holds timers
    whose task has not finished, so a slow transition is not handed over twice."""
    await ctx.foreground.wait_turn()
    async with ctx.db.read() as session:
        due = list(await timers.due_timers(session, ctx.clock()))
    started = 0
    for timer in due:
        if timer.id in in_flight:
            continue
        in_flight.add(timer.id)
        task = tasks.spawn(
            fire(ctx, dispatch, timer.id, timer.case_id, timer.case_version, timer.kind),
            f"timer-{timer.id}",
        )
        task.add_done_callback(partial(_landed, in_flight, timer.id))
        started += 1
    return started


async def run_timers(
    ctx: Context,
    dispatch: Dispatch,
    tasks: TaskTracker,
    every: Callable[[], Awaitable[object]] | None = None,
    max_sleep: float = 5.0,
) -> None:
    """Forever: fire due timers, then sleep until the next is due or a new one is added.

    ``every``: periodic housekeeping (taking over files whose processing stopped), run every
    quarter of the upload lease."""
    in_flight: set[int] = set()
    loop = asyncio.get_running_loop()
    period = ctx.config.upload_lease / 4
    next_sweep = loop.time() + period
    while True:
        try:
            await fire_due(ctx, dispatch, tasks, in_flight)
            if every is not None and loop.time() >= next_sweep:
                next_sweep = loop.time() + period
                await every()
            async with ctx.db.read() as session:
                nxt = await timers.next_due(session)
        except Exception:
            log.exception("timer loop: database error; retrying")
            nxt = None
        delay = max_sleep
        if nxt is not None:
            # a due timer whose transition is in flight keeps "next due" in the past: look
            # again soon, but do not spin on it
            delay = min(max_sleep, max(MIN_SLEEP, (nxt - ctx.clock()).total_seconds()))
        ctx.wake.timers.clear()
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
        # that arrives as the event is set, and then the loop would never stop
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await ctx.wake.timers.wait()
