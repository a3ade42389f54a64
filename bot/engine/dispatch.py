"""Hands work out to be carried out: here, in tasks of this process (the embedded default).

A port with one method, so that a job queue shared by replicas can take its place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.engine.context import Context
from bot.engine.executor import drive
from bot.engine.tasks import TaskTracker
from bot.engine.unit import Work


class Dispatch(Protocol):
    def submit(self, work: Sequence[Work]) -> None:
        """Carry ``work`` out after the commit that produced it (never raises)."""
        ...


class LocalDispatch:
    """Each batch of work runs in a tracked task of this process, in one flat loop."""

    def __init__(self, ctx: Context, tasks: TaskTracker) -> None:
        self.ctx = ctx
        self.tasks = tasks

    def submit(self, work: Sequence[Work]) -> None:
        if work:
            self.tasks.spawn(drive(self.ctx, work), f"case-{work[0].view.case_id}")
