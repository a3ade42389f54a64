"""Carries out the work a unit of work leaves behind, in one flat loop: run an effect, apply
what it observed, queue the work that follows (like httpx's auth flow, never by recursion).

A thin interpreter: which runner serves which effect. Policy is the runbook's; texts are the
runners' and the narration's.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Iterable
from typing import assert_never

from sqlalchemy.exc import DBAPIError

from bot.engine import checks, reboot
from bot.engine.context import Context
from bot.engine.driver_steps import run_driver_step
from bot.engine.instruct import instruct
from bot.engine.note import Note
from bot.engine.pacing import backoff
from bot.engine.unit import Applied, apply
from bot.engine.work import Work
from bot.logs import about_case
from bot.runbook import Step
from bot.runbook.messages import CheckNetwork, Instruct, Observation, ProbeAppliance, RunStep

log = logging.getLogger(__name__)
RETRIES = 5  # tries of one effect that keeps failing on the database or the network
# what fails in passing (the database restarting, a pool that ran dry, the network): tried again
TRANSIENT: tuple[type[Exception], ...] = (DBAPIError, OSError, TimeoutError)


async def perform(ctx: Context, work: Work) -> tuple[Observation, Note] | None:
    """Run one effect; what it observed, or None when it observes nothing (yet)."""
    view = work.view
    match work.effect:
        case RunStep(step=Step.REBOOT):
            sent = await reboot.send(ctx, view)
            return None if sent is None else (sent.observation, sent.note())
        case RunStep(step=which):
            done = await run_driver_step(ctx, view, which)
            return None if done is None else (done.observation, done.note())
        case Instruct(step=which):
            fed = await instruct(ctx, view, which)
            return None if fed is None else (fed.observation, fed.note())
        case CheckNetwork():
            await checks.network(ctx, view)
            return None
        case ProbeAppliance():
            return await reboot.probe(ctx, view), Note()
        case _:
            assert_never(work.effect)


async def advance(ctx: Context, item: Work) -> tuple[Work, ...]:
    """Perform one effect and apply what it observed: the work that follows (already
    recorded by the unit of work). Raises what failed; a stale or refused result is dropped."""
    with about_case(item.view.case_id, item.view.appliance):
        observed = await perform(ctx, item)
        if observed is None:
            return ()
        applied = await apply(ctx, item.view.case_id, item.view.version, *observed)
    if isinstance(applied, Applied):
        return applied.work
    log.info(
        "case %s: %s result dropped (%s)",
        item.view.case_id,
        type(item.effect).__name__,
        applied.reason.value,
    )
    return ()


async def drive(ctx: Context, work: Iterable[Work]) -> None:
    """Until nothing is left to do now: perform, apply, continue with what follows.

    An effect that fails on something passing (the database restarting, a pool that ran dry)
    is done again after a pause: every effect may run twice (steps 1-4 only read, the reboot
    and the instructions are once-only by their keys, a stale result is dropped)."""
    pending = deque((item, 0) for item in work)
    while pending:
        item, failures = pending.popleft()
        await ctx.foreground.wait_turn()
        try:
            follow = await advance(ctx, item)
        except TRANSIENT as exc:
            name = type(item.effect).__name__
            if failures + 1 >= RETRIES:
                log.exception("case %s: %s failed %d times; left to a restart",
                              item.view.case_id, name, RETRIES)  # fmt: skip
                continue
            log.warning("case %s: %s failed (%s); again shortly", item.view.case_id, name, exc)
            await asyncio.sleep(backoff(failures + 1, first=0.5, cap=10.0))
            pending.appendleft((item, failures + 1))
            continue
        except Exception:
            # a bug: the case keeps its state; a restart, or /ddi-check on it, picks it up
            log.exception("case %s: %s failed", item.view.case_id, type(item.effect).__name__)
            continue
        pending.extend((f, 0) for f in follow)
