"""``apply`` and the effect loop on real SQLite and PostgreSQL, with an in-memory clock and
drivers that answer at once: one transaction per change, decided once, rolled back whole."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, func, select
from tests_support import StubDriver, engine_context

from bot.drivers.base import ConnectionTestResult, DetectionCount
from bot.engine.admission import Admissions
from bot.engine.context import Context
from bot.engine.executor import drive
from bot.engine.note import Note
from bot.engine.outgoing import Kind
from bot.engine.unit import Admission, Applied, Refusal, Rejected, admit, apply
from bot.inventory import Appliance, Inventory
from bot.presenter import Message
from bot.runbook import Choice, Phase, Timing
from bot.runbook.messages import ConnectionTested, Decided, TimerFired, TimerKind
from storage import cases, outbox, timers
from storage.models import DecisionRow, EventRow, OutboxRow

SENSOR = Appliance(name="ddi-1", driver="simulated", scenario="quiet")


@dataclass
class Clock:
    now: datetime = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class QuietSensor(StubDriver):
    """A driver that answers at once, counting calls: step 1 works, step 2 finds nothing."""

    calls: list[str] = field(default_factory=list)

    async def test_connection(self) -> ConnectionTestResult:
        self.calls.append("test_connection")
        return ConnectionTestResult(True, "Verified Connection")

    async def query_detections(self, start: datetime, end: datetime) -> DetectionCount:
        self.calls.append("query_detections")
        return DetectionCount(0, start, end)


@dataclass
class Drivers:
    driver: QuietSensor = field(default_factory=QuietSensor)

    def get(self, appliance: Appliance) -> QuietSensor:
        return self.driver

    def available(self, appliance: Appliance) -> None:
        pass


@pytest.fixture
async def ctx(database_url: str, tmp_path: Path) -> AsyncIterator[Context]:
    async with engine_context(
        database_url, tmp_path, Inventory((SENSOR,)), Drivers(), Clock(),
        timing=Timing(recheck_delay=3600.0),
    ) as ctx:  # fmt: skip
        yield ctx


async def _open(ctx: Context) -> Applied:
    opened = await admit(ctx, appliance=SENSOR.name, guided=False, user="U1", channel="C1",
                         lang="en")  # fmt: skip
    assert isinstance(opened, Applied)
    return opened


async def _rows(ctx: Context, model: type) -> int:
    async with ctx.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_admission_records_the_case_and_its_root_message_once(ctx: Context) -> None:
    opened = await _open(ctx)
    assert [type(w.effect).__name__ for w in opened.work] == ["CheckNetwork", "RunStep"]
    again = await admit(ctx, appliance=SENSOR.name, guided=False, user="U2", channel="C1",
                        lang="en")  # fmt: skip
    assert again == Rejected(Refusal.ALREADY_OPEN)
    async with ctx.db.read() as session:
        (root,) = await outbox.of_case(session, opened.after.case_id)
    assert root.kind == Kind.ROOT and root.channel == "C1" and root.status == "pending"


async def test_the_effect_loop_runs_a_case_to_its_first_question(ctx: Context) -> None:
    opened = await _open(ctx)
    await drive(ctx, opened.work)
    drivers = ctx.drivers
    assert isinstance(drivers, Drivers)
    assert drivers.driver.calls == ["test_connection", "query_detections"]
    async with ctx.db.read() as session:
        row = await cases.get_case(session, opened.after.case_id)
        rows = await outbox.of_case(session, opened.after.case_id)
    assert row is not None and row.phase == Phase.AWAIT_TRAFFIC_DECISION and row.version == 3
    kinds = [r.kind for r in rows]
    # every message of the two transitions, queued in order in the transactions that made them;
    # the root message's update still waiting was given the newest content, not queued twice
    assert kinds == ["root", "post", "header", "post", "post"]
    assert "Waiting for an operator" in rows[2].body["message"]["text"]
    assert rows[-1].key == f"prompt:{row.id}:3"
    assert all(r.stream == f"case-{row.id}" for r in rows)


async def test_a_question_is_decided_once_even_by_racing_clicks(ctx: Context) -> None:
    opened = await _open(ctx)
    await drive(ctx, opened.work)
    case_id = opened.after.case_id
    clicks = [
        apply(ctx, case_id, 3, Decided(Choice.CAPTURE if i % 2 else Choice.QUIET, f"U{i}"),
              Note(actor=f"U{i}", clicked="9.9"))
        for i in range(6)
    ]  # fmt: skip
    results = await asyncio.gather(*clicks)
    applied = [r for r in results if isinstance(r, Applied)]
    refused = [r for r in results if isinstance(r, Rejected)]
    assert len(applied) == 1 and len(refused) == 5
    winner = applied[0].after.state.phase
    first = "quiet" if winner == Phase.RECHECK_WAIT else "capture"
    assert {(r.reason, r.choice) for r in refused} == {(Refusal.DECIDED, first)}
    assert await _rows(ctx, DecisionRow) == 1
    async with ctx.db.read() as session:
        updates = [r for r in await outbox.of_case(session, case_id) if r.kind == "update"]
    assert [u.target_ts for u in updates] == ["9.9"]  # the question shown decided, once


async def test_a_unit_whose_own_writes_refuse_is_rolled_back_whole(ctx: Context) -> None:
    opened = await _open(ctx)
    case_id = opened.after.case_id
    before = (await _rows(ctx, OutboxRow), await _rows(ctx, EventRow))

    async def refuse(_session: object) -> bool:
        return False  # e.g. the upload that answered was taken over by another process

    obs = ConnectionTested(True, "Verified Connection")
    note = Note(message=Message("step 1"), record={"verified": True}, actor="U1",
                answer="verified", also=refuse)  # fmt: skip
    assert await apply(ctx, case_id, 1, obs, note) == Rejected(Refusal.ROLLED_BACK)
    assert (await _rows(ctx, OutboxRow), await _rows(ctx, EventRow)) == before
    assert await _rows(ctx, DecisionRow) == 0
    async with ctx.db.read() as session:
        row = await cases.get_case(session, case_id)
    assert row is not None and row.version == 1  # nothing happened
    assert isinstance(await apply(ctx, case_id, 1, obs), Applied)  # and it can still happen


async def test_a_late_result_is_dropped_with_its_message(ctx: Context) -> None:
    opened = await _open(ctx)
    await drive(ctx, opened.work)
    late = await apply(ctx, opened.after.case_id, 1, ConnectionTested(False, "late"),
                       Note(message=Message("late result")))  # fmt: skip
    assert late == Rejected(Refusal.STALE)
    async with ctx.db.read() as session:
        texts = [str(r.body) for r in await outbox.of_case(session, opened.after.case_id)]
    assert not any("late result" in t for t in texts)


async def test_a_timer_is_claimed_with_its_transition_and_fires_once(ctx: Context) -> None:
    opened = await _open(ctx)
    await drive(ctx, opened.work)
    case_id = opened.after.case_id
    quiet = await apply(ctx, case_id, 3, Decided(Choice.QUIET, "U1"))
    assert isinstance(quiet, Applied)
    clock = ctx.clock
    assert isinstance(clock, Clock)
    clock.now += timedelta(hours=1, seconds=1)
    async with ctx.db.read() as session:
        (due,) = await timers.due_timers(session, clock.now)
    assert (due.kind, due.case_version) == ("recheck", 4)
    fire = TimerFired(TimerKind.RECHECK)
    results = await asyncio.gather(
        *(apply(ctx, case_id, 4, fire, Note(timer_id=due.id)) for _ in range(3))
    )
    assert sum(isinstance(r, Applied) for r in results) == 1
    async with ctx.db.read() as session:
        assert list(await timers.due_timers(session, clock.now)) == []
        row = await cases.get_case(session, case_id)
    assert row is not None and row.phase == Phase.DETECTION_QUERY


async def test_a_burst_of_checks_is_recorded_in_one_transaction(ctx: Context) -> None:
    fleet = [Appliance(name=f"ddi-b{i}", driver="simulated") for i in range(10)]
    async with ctx.db.write() as session:
        for sensor in fleet:
            await cases.upsert_appliance(session, sensor.name, "simulated", None, Clock()())
    admissions = Admissions(ctx)
    commits = 0

    def count(*_args: object) -> None:
        nonlocal commits
        commits += 1

    event.listen(ctx.db.engine.sync_engine, "commit", count)
    try:
        requests = [
            Admission(appliance=s.name, guided=False, user=f"U{n}", channel="C1", lang="en")
            for n in (1, 2)
            for s in fleet
        ]  # every sensor checked twice at once
        results = await asyncio.gather(*(admissions.admit(r) for r in requests))
    finally:
        event.remove(ctx.db.engine.sync_engine, "commit", count)
    opened = [r for r in results if isinstance(r, Applied)]
    assert len(opened) == 10 and sum(r == Rejected(Refusal.ALREADY_OPEN) for r in results) == 10
    assert {r.after.appliance for r in opened} == {s.name for s in fleet}
    assert {r.after.requested_by for r in opened} == {"U1"}  # the first check of each counts
    assert commits <= 2  # the first check alone, then everything that arrived meanwhile
    async with ctx.db.read() as session:
        roots = [await outbox.root_of(session, r.after.case_id) for r in opened]
    assert all(root is not None and root.status == "pending" for root in roots)
