"""The append-only event timeline and step runs of a case."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import chain
from storage.dialect import table
from storage.models import CaseRow, EventRow, StepRunRow
from storage.sqlite import in_thread


class EventKind(StrEnum):
    """Every kind of event a case's timeline holds."""

    CASE_OPENED = "case_opened"
    THREAD_POSTED = "thread_posted"  # the root message is in Slack: the case has its thread
    PHASE = "phase"
    DECISION = "decision"
    TIMER_SET = "timer_set"
    REMINDED = "reminded"  # the people who must answer were reminded (the question stays)
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
    await add_events(session, [values])


# Core inserts of the tables (an executemany), not ORM bulk inserts: these run in every unit
# of work, and the ORM's bookkeeping for them cost more than the round trip to the database.
_ADD_EVENTS = insert(table(EventRow))
_START_RUNS = insert(table(StepRunRow))
_START_RUN = _START_RUNS.returning(table(StepRunRow).c.id)
_CASES = table(CaseRow)
_SEAL = (
    update(_CASES)
    .where(_CASES.c.id == bindparam("of_case"))
    .values(events_count=bindparam("new_count"), events_head=bindparam("new_head"))
)

# built once (it runs in every unit of work): each case's chain head, its row locked
_HEADS = (
    select(_CASES.c.id, _CASES.c.events_count, _CASES.c.events_head)
    .where(_CASES.c.id.in_(bindparam("of_cases", expanding=True)))
    .order_by(_CASES.c.id)  # one order for every writer: locks never wait in a circle
    .with_for_update(key_share=True)  # FOR NO KEY UPDATE: compatible with FK checks
)


async def add_events(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Several events in one statement: dicts of case_id, kind (an ``EventKind``), data, at,
    actor. Each case's new events are linked into its hash chain (``storage.chain``); the case
    row is locked for that (PostgreSQL), so that two writers never fork a chain."""
    if not rows:
        return
    by_case: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        by_case.setdefault(row["case_id"], []).append(
            {**row, "kind": EventKind(row["kind"]).value, "actor": row.get("actor")}
        )
    heads = await session.execute(_HEADS, {"of_cases": sorted(by_case)})
    values: list[dict[str, Any]] = []
    sealed: list[dict[str, Any]] = []
    for case_id, count, head in heads.all():
        linked, count, head = chain.link(by_case.pop(case_id), count, head)
        values.extend(linked)
        sealed.append({"of_case": case_id, "new_count": count, "new_head": head})
    if by_case:
        raise LookupError(f"events for cases that do not exist: {sorted(by_case)}")
    await session.execute(_ADD_EVENTS, values)
    await session.execute(_SEAL, sealed)


async def start_step_runs(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Several step runs started in one statement: dicts of case_id, step, started_at."""
    if rows:
        await session.execute(_START_RUNS, rows)


async def events(session: AsyncSession, case_id: int) -> Sequence[EventRow]:
    result = await session.execute(
        select(EventRow).where(EventRow.case_id == case_id).order_by(EventRow.seq, EventRow.id)
    )
    return result.scalars().all()


async def verify_chain(session: AsyncSession, case_id: int) -> chain.Verdict | None:
    """Whether the case's stored timeline is intact (``None``: no such case)."""
    case = await session.get(CaseRow, case_id)
    if case is None:
        return None
    return chain.verify(await events(session, case_id), case.events_count, case.events_head)


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


async def last_event_id(session: AsyncSession) -> int:
    """The id of the latest event of any case: it moves whenever any case changes (in any
    replica)."""
    result = await session.execute(select(func.coalesce(func.max(EventRow.id), 0)))
    return int(result.scalar_one())


async def latest_by_appliance(
    session: AsyncSession, kind: EventKind
) -> dict[str, tuple[datetime, dict[str, Any]]]:
    """Appliance -> (when, data) of the latest ``kind`` event of any of its cases."""
    latest = (
        select(func.max(EventRow.id))
        .join(CaseRow, CaseRow.id == EventRow.case_id)
        .where(EventRow.kind == kind.value)
        .group_by(CaseRow.appliance)
    )
    result = await session.execute(
        in_thread(
            select(CaseRow.appliance, EventRow.at, EventRow.data)
            .join(CaseRow, CaseRow.id == EventRow.case_id)
            .where(EventRow.id.in_(latest))
        )
    )
    return {str(appliance): (at, dict(data)) for appliance, at, data in result.all()}


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
