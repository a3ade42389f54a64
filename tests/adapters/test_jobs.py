"""Work as procrastinate jobs on PostgreSQL: written with the change that causes it, run by
whichever replica is free, taken over from a replica that stopped (the real worker)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from test_engine_durability import (
    APPROVER,
    FLEET,
    TIMING,
    RecordingNotifier,
    _reboots,
    _wait_prompt,
)

from bot.engine import jobs as jobs_module
from bot.engine.jobs import EFFECT, REBOOT, TAKEOVER, stop_worker
from bot.engine.note import Note
from bot.engine.unit import Refusal, Rejected, apply
from bot.runbook import Choice
from bot.runbook.messages import Decided
from bot.runtime import Runtime, start_runtime
from bot.settings import Settings
from handlers.health import Health
from storage import cases

STALL = 1.0  # seconds without a heartbeat before a replica's jobs are taken over


@pytest.fixture
def settings(postgres_url: str) -> Settings:
    return replace(
        Settings(),
        posts_per_second=100.0,
        database_url=postgres_url,
        approvers=frozenset({APPROVER}),
        appliance_timeout=2.0,
        capture_seconds=0.05,
        stall_seconds=STALL,
    )


async def _replica(
    settings: Settings, tmp: Path, *, worker: bool = True
) -> tuple[Runtime, RecordingNotifier]:
    notifier = RecordingNotifier()  # every replica shares the data directory, as it must
    runtime = await start_runtime(
        settings, notifier, inventory=FLEET, timing=TIMING, simulator_reboot_seconds=0.3,
        artifacts=tmp / "artifacts", timer_poll=0.05,
    )  # fmt: skip
    if not worker:  # a replica that takes no jobs: what it records waits for another
        assert runtime.worker is not None
        await stop_worker(runtime.worker, 0.0)
        runtime.worker = None
    return runtime, notifier


async def _jobs(runtime: Runtime) -> list[tuple[str, str, str]]:
    async with runtime.engine.sessions() as session:
        rows = await session.execute(
            text(
                "SELECT task_name, status::text, queueing_lock FROM procrastinate_jobs "
                "WHERE task_name IN (:e, :r) ORDER BY id"
            ),
            {"e": EFFECT, "r": REBOOT},
        )
        return [(name, status, key) for name, status, key in rows]


async def _die_holding(runtime: Runtime, *task_names: str, silent: bool = True) -> int:
    """A replica that took the next jobs, of ``task_names``, and died: its worker's id. Its
    heartbeat is an hour old (``silent``), or goes quiet from now on."""
    manager = runtime.engine.jobs.app.job_manager  # type: ignore[union-attr]
    worker_id = await manager.register_worker()
    for task_name in task_names:
        job = await manager.fetch_job(queues=None, worker_id=worker_id)
        assert job is not None and job.task_name == task_name, job
    if silent:
        await _silent_since(runtime, worker_id, "1 hour")
    return worker_id


async def _silent_since(runtime: Runtime, worker_id: int, since: str) -> None:
    async with runtime.engine.db.write() as session:
        await session.execute(
            text(
                "UPDATE procrastinate_workers SET last_heartbeat = now() - CAST(:since AS interval)"
                " WHERE id = :id"
            ),
            {"id": worker_id, "since": since},
        )


async def test_work_is_written_with_the_change_and_only_with_it(
    settings: Settings, tmp_path: Path
) -> None:
    runtime, _ = await _replica(settings, tmp_path, worker=False)
    engine = runtime.engine
    try:
        view = await engine.open_case("nagoya", "U1", "C1")
        # the check's first work waits in the queue, for any replica: the bot's probes and
        # step 1, one job each, named by the case version
        assert await _jobs(runtime) == [
            (EFFECT, "todo", f"case:{view.case_id}:v1:check_network:-"),
            (EFFECT, "todo", f"case:{view.case_id}:v1:run_step:1"),
        ]

        # a change refused inside its transaction leaves no work behind
        async def refuse(session: AsyncSession) -> bool:
            return False

        refused = await apply(
            engine.ctx, view.case_id, view.version, Decided(Choice.ESCALATE, "U1"),
            Note(actor="U1", also=refuse),
        )  # fmt: skip
        assert refused == Rejected(Refusal.ROLLED_BACK)
        assert len(await _jobs(runtime)) == 2
    finally:
        await runtime.stop(drain=False)


async def test_two_replicas_share_the_cases_and_each_is_asked_once(
    settings: Settings, tmp_path: Path
) -> None:
    one, notes_one = await _replica(settings, tmp_path)
    two, notes_two = await _replica(settings, tmp_path)
    try:
        await one.engine.open_case("nagoya", "U1", "C1")
        await two.engine.open_case("tokyo", "U2", "C1")
        for _ in range(400):
            asked = [p.point.value for p in notes_one.prompts + notes_two.prompts]
            if len(asked) >= 2:
                break
            await asyncio.sleep(0.025)
        await asyncio.sleep(0.3)  # nothing more comes: no question asked twice
        assert sorted(p.point.value for p in notes_one.prompts + notes_two.prompts) == [
            "debug",
            "traffic",
        ]
        statuses = {status for _, status, _ in await _jobs(one)}
        assert statuses == {"succeeded"}
    finally:
        await one.stop(drain=False)
        await two.stop(drain=False)


async def test_a_step_held_by_a_replica_that_died_is_run_by_another(
    settings: Settings, tmp_path: Path
) -> None:
    first, _ = await _replica(settings, tmp_path, worker=False)
    view = await first.engine.open_case("nagoya", "U1", "C1")
    assert first.engine.jobs is not None
    await first.engine.jobs.app.tasks[TAKEOVER].defer_async(timestamp=0)
    # it took the bot's probes and a takeover of its own, then died while the survivor ran:
    # the survivor's periodic takeover must not wait behind the dead one's
    dead = await _die_holding(first, EFFECT, TAKEOVER, silent=False)
    survivor, notifier = await _replica(settings, tmp_path)
    await _silent_since(first, dead, f"{STALL + 1} seconds")
    await first.stop(drain=False)
    try:
        # within the stall bound and one takeover period, the case goes on
        for _ in range(int((STALL + jobs_module.TAKEOVER_EVERY + 15) / 0.05)):
            if notifier.prompts:
                break
            await asyncio.sleep(0.05)
        prompt = await _wait_prompt(notifier, "traffic")
        assert prompt.case_id == view.case_id
        assert any("Verified Connection" in m for m in notifier.messages)
        keys = [key for _, status, key in await _jobs(survivor) if status == "succeeded"]
        assert keys.count(f"case:{view.case_id}:v1:check_network:-") == 1  # retried, once
    finally:
        await survivor.stop(drain=False)


async def test_a_reboot_held_by_a_replica_that_died_is_asked_again_never_resent(
    settings: Settings, tmp_path: Path
) -> None:
    first, notes = await _replica(settings, tmp_path)
    engine = first.engine
    await engine.open_case("tokyo", "U1", "C1")
    debug = await _wait_prompt(notes, "debug")
    await engine.decide(debug.case_id, debug.version, Choice.SKIP, "U1")
    approval = await _wait_prompt(notes, "reboot")
    assert first.worker is not None
    await stop_worker(first.worker, 0.0)  # from now on this replica runs no job
    first.worker = None
    await engine.decide(approval.case_id, approval.version, Choice.APPROVE_REBOOT, APPROVER)
    await _die_holding(first, REBOOT)  # took the reboot, then died: was it sent?
    await first.stop(drain=False)

    survivor, notifier = await _replica(settings, tmp_path)
    try:
        deadline = STALL + jobs_module.TAKEOVER_EVERY + 15
        for _ in range(int(deadline / 0.05)):
            if notifier.prompts:
                break
            await asyncio.sleep(0.05)
        again = await _wait_prompt(notifier, "reboot")
        assert again.text.startswith("Warning: an earlier reboot attempt was interrupted")
        assert await _reboots(survivor, "tokyo") == 0
        statuses = [status for name, status, _ in await _jobs(survivor) if name == REBOOT]
        assert statuses == ["failed"]  # never retried
        async with survivor.engine.sessions() as session:
            row = await cases.get_case(session, approval.case_id)
        assert row is not None and row.phase == "await_reboot_approval"
    finally:
        await survivor.stop(drain=False)


async def test_finished_jobs_are_forgotten_and_waiting_ones_kept(
    settings: Settings, tmp_path: Path
) -> None:
    first, notes = await _replica(settings, tmp_path)
    try:
        await first.engine.open_case("nagoya", "U1", "C1")
        await _wait_prompt(notes, "traffic")  # its jobs have run
        assert first.worker is not None
        await stop_worker(first.worker, 0.0)
        first.worker = None
        await first.engine.open_case("tokyo", "U1", "C2")  # waits for a worker
        assert first.engine.jobs is not None
        await first.engine.jobs.cleanup(older_than_hours=0)
        left = await _jobs(first)
        assert left and {status for _, status, _ in left} == {"todo"}
    finally:
        await first.stop(drain=False)


async def test_a_worker_that_stops_is_started_again_and_health_says_so(
    settings: Settings, tmp_path: Path
) -> None:
    runtime, notes = await _replica(settings, tmp_path)
    health = Health(runtime.engine, AsyncWebClient(token="xoxb-unused"))
    queue = runtime.engine.jobs
    assert queue is not None and health.jobs() == "ok"
    try:
        await queue.app.connector.close_async()  # its connections gone (a database restart)
        for _ in range(200):
            if health.jobs() != "ok":
                break
            await asyncio.sleep(0.05)
        assert "starting again" in (health.jobs() or "")
        await queue.app.open_async()  # the database is back
        for _ in range(400):
            if health.jobs() == "ok":
                break
            await asyncio.sleep(0.05)
        assert health.jobs() == "ok"
        await runtime.engine.open_case("nagoya", "U1", "C1")  # and jobs run again
        await _wait_prompt(notes, "traffic")
    finally:
        await runtime.stop(drain=False)
