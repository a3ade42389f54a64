"""Group commit of new cases: checks that arrive while a batch is being written go into the
next one, so a burst of hundreds of /ddi-check is a few transactions, each acknowledged only
once it is recorded."""

from __future__ import annotations

import asyncio

from bot.engine.context import Context
from bot.engine.unit import Admission, Applied, Rejected, admit_many

BATCH = 200  # checks written in one transaction, at the most


class Admissions:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.waiting: list[tuple[Admission, asyncio.Future[Applied | Rejected]]] = []
        self.writer: asyncio.Task[None] | None = None

    async def admit(self, request: Admission) -> Applied | Rejected:
        """Record the check with whatever else arrives meanwhile; its outcome."""
        result: asyncio.Future[Applied | Rejected] = asyncio.get_running_loop().create_future()
        self.waiting.append((request, result))
        if self.writer is None or self.writer.done():
            self.writer = asyncio.create_task(self._write(), name="admissions")
        return await asyncio.shield(result)  # a caller that gives up does not undo the batch

    async def _write(self) -> None:
        while self.waiting:
            batch, self.waiting = self.waiting[:BATCH], self.waiting[BATCH:]
            try:
                outcomes = await admit_many(self.ctx, [request for request, _ in batch])
            except Exception as exc:  # the database failed: every check of the batch says so
                for _, result in batch:
                    if not result.done():
                        result.set_exception(exc)
                continue
            for (_, result), outcome in zip(batch, outcomes, strict=True):
                if not result.done():
                    result.set_result(outcome)
