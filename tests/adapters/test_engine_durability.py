"""Restarts, races and timers, with the real engine, database and simulator."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from tests_support import StubDriver

from bot.drivers.base import ConnectionTestResult
from bot.engine import reboot
from bot.engine.context import utcnow
from bot.errors import AlreadyDecided
from bot.inventory import Appliance, Inventory
from bot.messenger import Attachment, Content, Ref
from bot.presenter import TERMINAL, Prompt
from bot.runbook import Choice, Timing
from bot.runtime import Runtime, start_runtime
from bot.settings import Settings
from storage import cases, outbox, side_effects, timers

APPROVER = "U-APPROVER"
TIMING = Timing(recheck_delay=3600.0, poll_interval=0.1, reboot_timeout=15.0, reboot_grace=0.5)


@dataclass
class RecordingNotifier:
    """A messenger (the outbox's port) recording what a person would see, and finding a
    message it was given again, as Slack does."""

    style = TERMINAL
    messages: list[str] = field(default_factory=list)
    prompts: list[Prompt] = field(default_factory=list)
    posted: dict[int, str] = field(default_factory=dict)  # outbox id -> ts

    async def post(self, channel: str, thread_ts: str | None, content: Content, ref: Ref) -> str:
        ts = f"{len(self.posted) + 1}.0"
        self.posted[ref.outbox_id] = ts
        if thread_ts is None:
            return ts  # the root message
        if isinstance(content, Prompt):
            self.prompts.append(content)
        else:
            self.messages.append(content.text)
        return ts

    async def update(self, channel: str, ts: str, content: Content) -> None:
        pass

    async def attach(self, channel: str, thread_ts: str, file: Attachment, ref: Ref) -> None:
        self.messages.append(f"upload {file.filename}")

    async def find(
        self,
        channel: str,
        thread_ts: str | None,
        ref: Ref,
        since: datetime,
        filename: str | None = None,
    ) -> str | None:
        return self.posted.get(ref.outbox_id)

    async def reply(self, url: str, text: str) -> None:
        self.messages.append(text)


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.now


FLEET = Inventory(
    (
        Appliance(name="tokyo", driver="simulated", scenario="tmsp-down"),
        Appliance(name="nagoya", driver="simulated", scenario="quiet"),
    )
)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return replace(
        Settings(),
        posts_per_second=100.0,  # one channel for every case: no pacing to wait for
        database_url=database_url,
        approvers=frozenset({APPROVER}),
        appliance_timeout=2.0,
        capture_seconds=0.05,
    )


async def _start(
    settings: Settings, tmp: Path, clock: Clock | None = None, timing: Timing = TIMING
) -> tuple[Runtime, RecordingNotifier]:
    notifier = RecordingNotifier()
    runtime = await start_runtime(
        settings, notifier, inventory=FLEET, timing=timing, simulator_reboot_seconds=0.3,
        artifacts=tmp / "artifacts", timer_poll=0.05, clock=clock or utcnow,
    )  # fmt: skip
    return runtime, notifier


async def _wait_prompt(notifier: RecordingNotifier, point: str, count: int = 1) -> Prompt:
    for _ in range(400):
        found = [p for p in notifier.prompts if p.point.value == point]
        if len(found) >= count:
            return found[count - 1]
        await asyncio.sleep(0.025)
    raise AssertionError(f"no {point} prompt; got {[p.point for p in notifier.prompts]}")


async def _reboots(runtime: Runtime, name: str) -> int:
    assert runtime.simulator is not None
    async with httpx.AsyncClient() as http:
        listing = (await http.get(f"{runtime.simulator.url}/api/v1/appliances")).json()
    return next(int(a["reboots"]) for a in listing["appliances"] if a["name"] == name)


@pytest.fixture
async def running(
    settings: Settings, tmp_path: Path
) -> AsyncIterator[tuple[Runtime, RecordingNotifier]]:
    runtime, notifier = await _start(settings, tmp_path)
    yield runtime, notifier
    await runtime.stop(drain=False)


async def test_racing_approvals_reboot_once(running: tuple[Runtime, RecordingNotifier]) -> None:
    runtime, notifier = running
    engine = runtime.engine
    await engine.open_case("tokyo", "U1", "C1")
    debug = await _wait_prompt(notifier, "debug")
    await engine.decide(debug.case_id, debug.version, Choice.SKIP, "U1")
    approval = await _wait_prompt(notifier, "reboot")
    results = await asyncio.gather(
        *(
            engine.decide(approval.case_id, approval.version, Choice.APPROVE_REBOOT, APPROVER)
            for _ in range(6)
        ),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert all(isinstance(r, AlreadyDecided) for r in results if isinstance(r, BaseException))
    for _ in range(200):
        async with engine.sessions() as session:
            row = await cases.get_case(session, approval.case_id)
        if row is not None and row.outcome:
            break
        await asyncio.sleep(0.05)
    assert row is not None and row.outcome == "resolved"
    assert await _reboots(runtime, "tokyo") == 1


async def test_a_reboot_interrupted_by_a_crash_is_not_retried_blindly(
    settings: Settings, tmp_path: Path
) -> None:
    # a crash between recording the reboot and sending it
    await _crash_while_rebooting(settings, tmp_path, "recorded")
    restarted, notifier2 = await _start(settings, tmp_path)
    try:
        again = await _wait_prompt(notifier2, "reboot")
        assert again.text.startswith("Warning: an earlier reboot attempt was interrupted")
        assert await _reboots(restarted, "tokyo") == 0
        # the person approves again: a new attempt, with a new once-only key
        await restarted.engine.decide(again.case_id, again.version, Choice.APPROVE_REBOOT, APPROVER)
        for _ in range(200):
            if await _reboots(restarted, "tokyo") == 1:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        assert await _reboots(restarted, "tokyo") == 1
    finally:
        await restarted.stop(drain=False)


async def test_a_recheck_survives_a_restart(settings: Settings, tmp_path: Path) -> None:
    clock = Clock()
    runtime, notifier = await _start(settings, tmp_path, clock)
    engine = runtime.engine
    await engine.open_case("nagoya", "U1", "C1")
    traffic = await _wait_prompt(notifier, "traffic")
    await engine.decide(traffic.case_id, traffic.version, Choice.QUIET, "U1")
    for _ in range(100):
        if any("runs again" in m for m in notifier.messages):
            break
        await asyncio.sleep(0.02)
    await runtime.stop()

    clock.now += timedelta(hours=1, seconds=1)  # the bot was down while the timer came due
    restarted, notifier2 = await _start(settings, tmp_path, clock)
    try:
        second = await _wait_prompt(notifier2, "traffic")
        assert second.case_id == traffic.case_id and second.version > traffic.version
        assert any("Step 2" in m for m in notifier2.messages)
    finally:
        await restarted.stop(drain=False)


async def test_a_step_interrupted_by_a_crash_is_run_again(
    settings: Settings, tmp_path: Path
) -> None:
    runtime, _ = await _start(settings, tmp_path)
    engine = runtime.engine
    view = await engine.open_case("nagoya", "U1", "C1")
    await engine.tasks.cancel_all()  # crash while step 1 runs
    await runtime.stop(drain=False)
    restarted, notifier2 = await _start(settings, tmp_path)
    try:
        prompt = await _wait_prompt(notifier2, "traffic")
        assert prompt.case_id == view.case_id
        assert any("Verified Connection" in m for m in notifier2.messages)
    finally:
        await restarted.stop(drain=False)


async def _crash_while_rebooting(settings: Settings, tmp_path: Path, effect: str) -> Runtime:
    """Run to the approval, then leave the case as a crash while rebooting would: the reboot
    side effect ``none`` (never recorded), ``recorded`` (not completed) or ``sent``."""
    runtime, notifier = await _start(settings, tmp_path)
    engine = runtime.engine
    await engine.open_case("tokyo", "U1", "C1")
    debug = await _wait_prompt(notifier, "debug")
    await engine.decide(debug.case_id, debug.version, Choice.SKIP, "U1")
    approval = await _wait_prompt(notifier, "reboot")
    await runtime.stop()
    from sqlalchemy import update

    from storage.models import CaseRow

    async with engine.sessions.begin() as session:
        row = await cases.get_case(session, approval.case_id)
        assert row is not None
        state = dict(row.state, phase="rebooting", reboot_attempts=1)
        await session.execute(
            update(CaseRow).where(CaseRow.id == row.id)
            .values(phase="rebooting", state=state, version=row.version + 1)
        )  # fmt: skip
        if effect in ("recorded", "sent"):
            key = f"reboot:{row.id}:1"
            effect_id = await side_effects.record(session, row.id, "reboot", key, engine.clock())
            if effect == "sent":
                await side_effects.complete(session, effect_id, "sent", engine.clock())
    return runtime


async def test_a_reboot_sent_just_before_a_crash_is_followed_up_not_repeated(
    settings: Settings, tmp_path: Path
) -> None:
    await _crash_while_rebooting(settings, tmp_path, "sent")
    restarted, notifier = await _start(settings, tmp_path)
    try:
        for _ in range(200):
            if any("Connection test" in m for m in notifier.messages):
                break
            await asyncio.sleep(0.05)
        assert [p.point.value for p in notifier.prompts] == []
        assert any("After the reboot" in m for m in notifier.messages)
        assert await _reboots(restarted, "tokyo") == 0  # the simulator never saw a second one
    finally:
        await restarted.stop(drain=False)


async def test_an_approved_reboot_never_recorded_is_asked_again(
    settings: Settings, tmp_path: Path
) -> None:
    await _crash_while_rebooting(settings, tmp_path, "none")
    restarted, notifier = await _start(settings, tmp_path)
    try:
        again = await _wait_prompt(notifier, "reboot")
        assert again.text.startswith("Warning:")
        assert await _reboots(restarted, "tokyo") == 0
    finally:
        await restarted.stop(drain=False)


async def _restart_after(
    settings: Settings, tmp_path: Path, tamper: str
) -> tuple[Runtime, RecordingNotifier, int]:
    """Run a quiet case to its first question, stop, then ``tamper`` with what was stored."""
    from sqlalchemy import delete, text, update

    from storage.models import OutboxRow, TimerRow

    def engine_clock() -> datetime:
        return datetime.now(UTC)

    runtime, notifier = await _start(settings, tmp_path)
    await runtime.engine.open_case("nagoya", "U1", "C1")
    first = await _wait_prompt(notifier, "traffic")
    await runtime.stop()
    async with runtime.engine.sessions.begin() as session:
        if tamper == "question never posted":  # the bot died after deciding, before posting
            await session.execute(
                update(OutboxRow)
                .where(OutboxRow.key.like("prompt:%"))
                .values(status="pending", ts=None, uncertain=False)
            )
        elif tamper.startswith("waiting for the sensor"):
            state = {"phase": "wait_for_back", "wait_deadline": 9e9, "reboot_attempts": 1}
            row = await cases.get_case(session, first.case_id)
            assert row is not None
            await session.execute(
                text("UPDATE cases SET phase = :p, state = :s WHERE id = :i"),
                {"p": "wait_for_back", "s": json.dumps({**row.state, **state}),
                 "i": first.case_id},
            )  # fmt: skip
            await session.execute(delete(TimerRow))
            if tamper.endswith("but an older timer"):  # the approval's expiry, still pending
                old = first.version - 1
                await timers.add_timer(session, first.case_id, "approval_expiry", old,
                                       engine_clock() + timedelta(hours=4))  # fmt: skip
    restarted, notifier2 = await _start(settings, tmp_path)
    return restarted, notifier2, first.version


async def test_a_question_lost_in_a_crash_is_asked_again(
    settings: Settings, tmp_path: Path
) -> None:
    restarted, notifier, version = await _restart_after(settings, tmp_path, "question never posted")
    try:
        again = await _wait_prompt(notifier, "traffic")
        assert again.version == version  # the same question: answers to either count once
    finally:
        await restarted.stop(drain=False)


@pytest.mark.parametrize(
    "tamper",
    ["waiting for the sensor without a timer", "waiting for the sensor but an older timer"],
)
async def test_a_wait_without_its_timer_is_re_armed(
    settings: Settings, tmp_path: Path, tamper: str
) -> None:
    restarted, notifier, _ = await _restart_after(settings, tmp_path, tamper)
    try:
        for _ in range(200):
            if any("After the reboot" in m for m in notifier.messages):
                break
            await asyncio.sleep(0.05)
        assert any("After the reboot" in m for m in notifier.messages)
    finally:
        await restarted.stop(drain=False)


async def test_closing_messages_lost_in_a_crash_are_posted_at_restart(
    settings: Settings, tmp_path: Path
) -> None:
    from sqlalchemy import update

    from storage.models import OutboxRow

    runtime, notifier = await _start(settings, tmp_path)
    engine = runtime.engine
    await engine.open_case("nagoya", "U1", "C1")
    traffic = await _wait_prompt(notifier, "traffic")
    async with engine.sessions() as session:
        asked = len(await outbox.of_case(session, traffic.case_id))
    await engine.stop("nagoya", "U1")  # the operator escalates: report and closing message
    await engine.quiesce()
    assert sum("Vendor report" in m for m in notifier.messages) == 1
    await runtime.stop()
    async with engine.sessions.begin() as session:  # as if the bot died before posting them
        rows = await outbox.of_case(session, traffic.case_id)
        await session.execute(
            update(OutboxRow)
            .where(OutboxRow.id.in_([r.id for r in rows[asked:]]))
            .values(status="pending", ts=None, uncertain=False)
        )
    restarted, notifier2 = await _start(settings, tmp_path)
    try:
        await restarted.engine.quiesce()
        assert sum("Vendor report" in m for m in notifier2.messages) == 1
        assert any("escalated instead of judging traffic" in m for m in notifier2.messages)
    finally:
        await restarted.stop(drain=False)
    again, notifier3 = await _start(settings, tmp_path)  # announced once, not at every start
    try:
        await again.engine.quiesce()
        assert not any("Vendor report" in m for m in notifier3.messages)
        assert traffic.case_id == 1
    finally:
        await again.stop(drain=False)


async def test_a_reboot_is_not_sent_for_a_case_that_moved_on(
    running: tuple[Runtime, RecordingNotifier],
) -> None:
    """Another replica resumed the case and asked again: this one's reboot must not go out."""
    runtime, notifier = running
    engine = runtime.engine
    await engine.open_case("tokyo", "U1", "C1")
    debug = await _wait_prompt(notifier, "debug")
    await engine.decide(debug.case_id, debug.version, Choice.SKIP, "U1")
    approval = await _wait_prompt(notifier, "reboot")
    approved = await engine.decide(
        approval.case_id, approval.version, Choice.APPROVE_REBOOT, APPROVER
    )
    stale = approved.after  # what this replica was about to reboot with...
    await engine.quiesce()  # the reboot job done, wherever it ran
    # ...but the case has moved on since (rebooted, verified, closed)
    assert await reboot.send(engine.ctx, stale) is None
    assert await _reboots(runtime, "tokyo") == 1


class _BrokenPlugin(StubDriver):
    """A third-party driver with a bug: it raises what no driver should."""

    async def test_connection(self) -> ConnectionTestResult:
        raise ConnectionResetError("plugin bug")


class _BrokenDrivers:
    def get(self, appliance: Appliance) -> _BrokenPlugin:
        return _BrokenPlugin()

    def available(self, appliance: Appliance) -> None:
        pass


async def test_a_driver_bug_fails_the_step_instead_of_hanging_the_case(
    running: tuple[Runtime, RecordingNotifier],
) -> None:
    runtime, notifier = running
    engine = runtime.engine
    real = engine.ctx.drivers
    engine.ctx.drivers = _BrokenDrivers()  # type: ignore[assignment]
    try:
        await engine.open_case("tokyo", "U1", "C1")
        retry = await _wait_prompt(notifier, "retry")
    finally:
        engine.ctx.drivers = real
    assert "unexpected error inside ddi-bot" in retry.text


async def test_people_who_may_not_decide_are_told_why(
    running: tuple[Runtime, RecordingNotifier],
) -> None:
    from bot.errors import NotAuthorised, NotOperator

    runtime, notifier = running
    engine = runtime.engine
    engine.config = replace(engine.config, operators=frozenset({"U1"}))
    await engine.open_case("nagoya", "U1", "C1")
    traffic = await _wait_prompt(notifier, "traffic")
    with pytest.raises(NotOperator):
        await engine.decide(traffic.case_id, traffic.version, Choice.QUIET, "U-STRANGER")
    with pytest.raises(NotAuthorised):
        await engine.decide(traffic.case_id, traffic.version, Choice.APPROVE_REBOOT, "U1")
    # an approver who is not an operator may still answer (and reject a reboot)
    await engine.decide(traffic.case_id, traffic.version, Choice.QUIET, APPROVER)


async def test_an_unanswered_approval_expires_and_a_late_click_reboots_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    runtime, notifier = await _start(settings, tmp_path, timing=replace(TIMING, approval_ttl=0.3))
    engine = runtime.engine
    try:
        await engine.open_case("tokyo", "U1", "C1")
        debug = await _wait_prompt(notifier, "debug")
        await engine.decide(debug.case_id, debug.version, Choice.SKIP, "U1")
        approval = await _wait_prompt(notifier, "reboot")
        for _ in range(100):
            async with engine.sessions() as session:
                row = await cases.get_case(session, approval.case_id)
            if row is not None and row.outcome:
                break
            await asyncio.sleep(0.05)
        assert row is not None and row.outcome == "escalated"
        assert row.state["reason"] == "approval_expired"
        with pytest.raises(AlreadyDecided):
            await engine.decide(approval.case_id, approval.version, Choice.APPROVE_REBOOT, APPROVER)
        await engine.quiesce()
        assert await _reboots(runtime, "tokyo") == 0
        assert any("nobody approved the reboot in time" in m for m in notifier.messages)
    finally:
        await runtime.stop(drain=False)
