"""Hands work out to be carried out: here, in tasks of this process (the embedded default).

A port, so that a job queue shared by replicas (``bot.engine.jobs``) can take its place.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from bot.engine.context import Context
from bot.engine.executor import drive
from bot.engine.tasks import TaskTracker
from bot.engine.work import Work


class Dispatch(Protocol):
    def submit(self, work: Sequence[Work]) -> None:
        """Carry out ``work`` that a unit of work recorded, after its commit (never raises)."""
        ...

    def start(self, work: Sequence[Work]) -> None:
        """Carry out ``work`` that no unit of work recorded (picking a case up again, asking
        again what went missing); at most once per case version and effect (never raises)."""
        ...


class LocalDispatch:
    """Each batch of work runs in a tracked task of this process, in one flat loop; at most
    ``config.case_concurrency`` cases advance at once (the others wait their turn), so that a
    burst of new cases does not starve what must answer Slack within 3 s."""

    def __init__(self, ctx: Context, tasks: TaskTracker) -> None:
        self.ctx = ctx
        self.tasks = tasks
        self.turns = asyncio.Semaphore(ctx.config.case_concurrency)

    def submit(self, work: Sequence[Work]) -> None:
        if work:
            self.tasks.spawn(self._in_turn(work), f"case-{work[0].view.case_id}")

    def start(self, work: Sequence[Work]) -> None:
        self.submit(work)  # one process: nothing was written down, nothing to look up

    async def _in_turn(self, work: Sequence[Work]) -> None:
        async with self.turns:
            await drive(self.ctx, work)
