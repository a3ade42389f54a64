"""The append-only event timeline and step runs of a case."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import table
from storage.models import EventRow, StepRunRow


class EventKind(StrEnum):
    """Every kind of event a case's timeline holds."""

    CASE_OPENED = "case_opened"
    THREAD_POSTED = "thread_posted"  # the root message is in Slack: the case has its thread
    PHASE = "phase"
    DECISION = "decision"
    TIMER_SET = "timer_set"
    STEP_STARTED = "step_started"
    STEP_RESULT = "step_result"
    PROBES = "probes"  # the bot's own network checks
    GUIDE_POSTED = "guide_posted"  # console instructions for a person (guided steps)
    MAINTENANCE = "maintenance"  # the person's answer to the network maintenance question
    ARTIFACT = "artifact"  # a file posted in the thread and kept
    REBOOT_RECORDED = "reboot_recorded"  # before it is sent, or before a person is told
    REBOOTED_BY_PERSON = "rebooted_by_person"
    CASE_CLOSED = "case_closed"
    DELIVERY_FAILED = "delivery_failed"  # a message Slack refused for good


async def add_event(
    session: AsyncSession,
    case_id: int,
    kind: EventKind,
    data: dict[str, Any],
    now: datetime,
    actor: str | None = None,
) -> None:
    values = {"case_id": case_id, "kind": kind.value, "data": data, "at": now, "actor": actor}
    await session.execute(_ADD_EVENTS, values)


# Core inserts of the tables (an executemany), not ORM bulk inserts: these run in every unit
# of work, and the ORM's bookkeeping for them cost more than the round trip to the database.
_ADD_EVENTS = insert(table(EventRow))
_START_RUNS = insert(table(StepRunRow))
_START_RUN = _START_RUNS.returning(table(StepRunRow).c.id)


async def add_events(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Several events in one statement: dicts of case_id, kind (an ``EventKind``), data, at,
    actor."""
    if rows:
        values = [{**row, "kind": EventKind(row["kind"]).value} for row in rows]
        await session.execute(_ADD_EVENTS, values)


async def start_step_runs(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Several step runs started in one statement: dicts of case_id, step, started_at."""
    if rows:
        await session.execute(_START_RUNS, rows)


async def events(session: AsyncSession, case_id: int) -> Sequence[EventRow]:
    result = await session.execute(
        select(EventRow).where(EventRow.case_id == case_id).order_by(EventRow.id)
    )
    return result.scalars().all()


async def start_step_run(session: AsyncSession, case_id: int, step: int, now: datetime) -> int:
    values = {"case_id": case_id, "step": step, "started_at": now}
    result = await session.execute(_START_RUN, values)
    return int(result.scalar_one())


_RUNS = table(StepRunRow)
# the latest unfinished run of a step, finished in one statement
_FINISH_OPEN = (
    update(_RUNS)
    .where(
        _RUNS.c.id
        == select(func.max(_RUNS.c.id))
        .where(
            _RUNS.c.case_id == bindparam("of_case"),
            _RUNS.c.step == bindparam("of_step"),
            _RUNS.c.finished_at.is_(None),
        )
        .scalar_subquery()
    )
    .values(outcome=bindparam("new_outcome"), result=bindparam("new_result"),
            finished_at=bindparam("at"))
)  # fmt: skip


async def step_runs(session: AsyncSession, case_id: int) -> Sequence[StepRunRow]:
    result = await session.execute(
        select(StepRunRow).where(StepRunRow.case_id == case_id).order_by(StepRunRow.id)
    )
    return result.scalars().all()


async def has_event(
    session: AsyncSession, case_id: int, kind: EventKind, version: int | None = None
) -> bool:
    """Whether ``kind`` was recorded (for ``version``, when given, stored as data["version"])."""
    rows = await session.execute(
        select(EventRow.data).where(EventRow.case_id == case_id, EventRow.kind == kind.value)
    )
    return any(version is None or data.get("version") == version for data in rows.scalars())


async def finish_open_step_run(
    session: AsyncSession,
    case_id: int,
    step: int,
    outcome: str,
    result: dict[str, Any],
    now: datetime,
) -> None:
    """Finish the latest unfinished run of ``step`` (a guided step waits with its run open)."""
    params = {"of_case": case_id, "of_step": step, "new_outcome": outcome, "new_result": result,
              "at": now}  # fmt: skip
    finished = await session.execute(_FINISH_OPEN, params)
    if int(getattr(finished, "rowcount", 0)) == 0:
        # the instructions were posted before a crash could record the run
        run = {"case_id": case_id, "step": step, "started_at": now, "finished_at": now,
               "outcome": outcome, "result": result}  # fmt: skip
        await session.execute(_START_RUNS, run)
