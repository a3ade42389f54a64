"""Guided cases across restarts, on real SQLite and PostgreSQL: nothing re-posted, nothing lost,
answers taken once."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from test_engine_durability import APPROVER, RecordingNotifier

from bot.engine.uploads import Uploads
from bot.errors import AlreadyDecided, UploadRefused
from bot.files import Downloaded, SharedFile
from bot.inventory import Appliance, Inventory
from bot.runbook import Choice, Phase, Timing
from bot.runtime import Runtime, start_runtime
from bot.settings import Settings
from storage import cases, side_effects, uploads

FLEET = Inventory((Appliance(name="kobe", driver="guided", console="127.0.0.1:9"),))
TIMING = Timing(recheck_delay=3600.0, poll_interval=0.05, reboot_timeout=60.0, reboot_grace=60)


class Files:
    """The files people posted, as Slack would list and serve them (Slack cannot run here)."""

    def __init__(self) -> None:
        self.shared: dict[str, tuple[SharedFile, bytes]] = {}
        self.downloads = 0

    def post(self, file_id: str, name: str, content: bytes, thread: tuple[str, str]) -> None:
        info = SharedFile(file_id, name, len(content), "U1", (thread,))
        self.shared[file_id] = (info, content)

    async def info(self, file_id: str) -> SharedFile:
        if file_id not in self.shared:
            raise UploadRefused("file_not_found")
        return self.shared[file_id][0]

    async def download(self, file_id: str, dest: Path, limit: int) -> Downloaded:
        self.downloads += 1
        content = self.shared[file_id][1]
        dest.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(dest.write_bytes, content)
        return Downloaded(dest, len(content), hashlib.sha256(content).hexdigest())


@pytest.fixture
def settings(database_url: str) -> Settings:
    return replace(
        Settings(),
        posts_per_second=100.0,  # one channel for every case: no pacing to wait for
        database_url=database_url,
        approvers=frozenset({APPROVER}),
        appliance_timeout=0.2,
    )


async def _start(settings: Settings, tmp: Path, files: Files) -> tuple[Runtime, RecordingNotifier]:
    notifier = RecordingNotifier()
    runtime = await start_runtime(
        settings, notifier, inventory=FLEET, timing=TIMING, artifacts=tmp / "artifacts",
        timer_poll=0.05, files=files,
    )  # fmt: skip
    return runtime, notifier


async def _until(predicate: object, what: str) -> None:
    assert callable(predicate)
    for _ in range(400):
        if await predicate():
            return
        await asyncio.sleep(0.025)
    raise AssertionError(what)


def _guides(notifier: RecordingNotifier, step: int) -> list[str]:
    return [m for m in notifier.messages if m.startswith(f"*Step {step} ") and "console of" in m]


async def _phase(runtime: Runtime, case_id: int) -> tuple[Phase, int]:
    async with runtime.engine.sessions() as session:
        row = await cases.get_case(session, case_id)
    assert row is not None
    return Phase(row.phase), row.version


async def _at_step_2(
    settings: Settings, tmp_path: Path, files: Files
) -> tuple[Runtime, RecordingNotifier, int]:
    runtime, notifier = await _start(settings, tmp_path, files)
    view = await runtime.engine.open_case("kobe", "U1", "C1")
    await _until(lambda: _async(bool(_guides(notifier, 1))), "step 1")
    _, version = await _phase(runtime, view.case_id)
    await runtime.engine.guide.connection(view.case_id, version, "Verified Connection", "U1")
    await _until(lambda: _async(bool(_guides(notifier, 2))), "step 2")
    return runtime, notifier, view.case_id


async def test_a_waiting_guided_step_survives_a_restart_without_a_second_post(
    settings: Settings, tmp_path: Path
) -> None:
    files = Files()
    runtime, notifier = await _start(settings, tmp_path, files)
    view = await runtime.engine.open_case("kobe", "U1", "C1")

    async def posted() -> bool:
        return bool(_guides(notifier, 1))

    await _until(posted, "step 1 instructions")
    await runtime.engine.quiesce()  # delivered, and known to be
    await runtime.stop(drain=False)

    runtime, notifier = await _start(settings, tmp_path, files)
    try:
        await runtime.engine.tasks.drain()
        assert _guides(notifier, 1) == []  # already posted before the restart: not again
        phase, version = await _phase(runtime, view.case_id)
        assert phase == Phase.CONNECTION_TEST
        # two people answer at once: one answer is taken
        results = await asyncio.gather(
            runtime.engine.guide.connection(view.case_id, version, "Verified Connection", "U1"),
            runtime.engine.guide.connection(view.case_id, version, "Other text", "U1"),
            return_exceptions=True,
        )
        assert sum(r is None for r in results) == 1
        assert sum(isinstance(r, AlreadyDecided) for r in results) == 1

        async def step2() -> bool:
            return bool(_guides(notifier, 2))

        await _until(step2, "step 2 instructions")
    finally:
        await runtime.stop(drain=False)


async def test_a_file_claimed_before_a_crash_is_processed_after_the_restart(
    settings: Settings, tmp_path: Path
) -> None:
    files = Files()
    runtime, notifier, case_id = await _at_step_2(settings, tmp_path, files)
    phase, version = await _phase(runtime, case_id)
    assert phase == Phase.DETECTION_QUERY
    # the process claims the export, then dies before reading it
    files.post("F1", "export.csv", b"Detection Time,Severity,Threat Type\n", ("C1", f"{case_id}.0"))
    long_ago = runtime.engine.clock() - timedelta(hours=1)  # no renewal since: its lease ran out
    files.post("F0", "old.csv", b"Detection Time,Severity\n", ("C1", f"{case_id}.0"))
    async with runtime.engine.sessions.begin() as session:
        await uploads.claim(
            session, file_id="F1", case_id=case_id, case_version=version, step=2,
            user_id="U1", name="export.csv", size=10, owner="dead", now=long_ago,
        )  # fmt: skip
        await uploads.claim(  # claimed for a question the case has since moved past
            session, file_id="F0", case_id=case_id, case_version=version - 1, step=1,
            user_id="U1", name="old.csv", size=10, owner="dead", now=long_ago,
        )  # fmt: skip
    await runtime.stop(drain=False)

    runtime, notifier = await _start(settings, tmp_path, files)
    try:

        async def answered() -> bool:
            return (await _phase(runtime, case_id))[0] == Phase.AWAIT_TRAFFIC_DECISION

        await _until(answered, "the export answered step 2 after the restart")
        await runtime.engine.quiesce()
        async with runtime.engine.sessions() as session:
            row = await uploads.get(session, "F1")
        assert row is not None and row.status == "done"
        async with runtime.engine.sessions() as session:
            old = await uploads.get(session, "F0")
        assert old is not None and old.status == "refused"  # not taken as step 2's answer
        assert any("`old.csv` arrived after this step was answered" in m for m in notifier.messages)
        assert files.downloads == 1
        # Slack sends the events again (a retry): the file is not taken twice
        await runtime.engine.uploads.file_posted("F1")
        assert files.downloads == 1
    finally:
        await runtime.stop(drain=False)


async def _async(value: bool) -> bool:
    return value


async def test_waiting_for_the_person_to_reboot_survives_a_restart(
    settings: Settings, tmp_path: Path
) -> None:
    files = Files()
    runtime, notifier = await _start(settings, tmp_path, files)
    engine = runtime.engine
    view = await engine.open_case("kobe", "U1", "C1")
    await _until(lambda: _async(bool(_guides(notifier, 1))), "step 1")
    _, version = await _phase(runtime, view.case_id)
    # pasted with a full stop and in another case: still the console's success text
    await engine.guide.connection(view.case_id, version, " verified connection.\n", "U1")
    await _until(lambda: _async(bool(_guides(notifier, 2))), "step 2")
    async with engine.sessions() as session:
        row = await cases.get_case(session, view.case_id)
    assert row is not None and row.state["connection_verified"] is True
    _, version = await _phase(runtime, view.case_id)
    await engine.guide.count(view.case_id, version, 3, "U1")
    _, version = await _phase(runtime, view.case_id)
    await engine.decide(view.case_id, version, Choice.SKIP, "U1")
    _, version = await _phase(runtime, view.case_id)
    await engine.decide(view.case_id, version, Choice.APPROVE_REBOOT, APPROVER)
    await _until(lambda: _async(bool(_guides(notifier, 5))), "step 5 instructions")
    await engine.quiesce()
    phase, version = await _phase(runtime, view.case_id)
    assert phase == Phase.REBOOT_INSTRUCTED
    await runtime.stop(drain=False)

    runtime, notifier = await _start(settings, tmp_path, files)
    try:
        await runtime.engine.tasks.drain()
        # the person was told; the bot neither re-posts nor treats the reboot as interrupted
        assert _guides(notifier, 5) == [] and notifier.prompts == []
        assert await _phase(runtime, view.case_id) == (Phase.REBOOT_INSTRUCTED, version)
        await runtime.engine.guide.rebooted(view.case_id, version, "U1")
        with pytest.raises(AlreadyDecided):  # a double click
            await runtime.engine.guide.rebooted(view.case_id, version, "U1")
        assert (await _phase(runtime, view.case_id))[0] == Phase.WAIT_FOR_DOWN
        async with runtime.engine.sessions() as session:
            effects = await side_effects.for_case(session, view.case_id, "reboot")
        assert [e.outcome for e in effects] == ["sent"]
    finally:
        await runtime.stop(drain=False)


async def test_a_file_that_fails_unexpectedly_is_reported_not_left_claimed(
    settings: Settings, tmp_path: Path
) -> None:
    files = Files()
    runtime, notifier, case_id = await _at_step_2(settings, tmp_path, files)
    try:
        # the data directory is broken: the case folder is a file, the download cannot be stored
        (tmp_path / "artifacts").mkdir(exist_ok=True)
        (tmp_path / "artifacts" / f"case-{case_id}").write_text("not a folder")
        files.post("F9", "export.csv", b"Detection Time,Severity\n", ("C1", f"{case_id}.0"))
        await runtime.engine.uploads.file_posted("F9")
        await runtime.engine.quiesce()
        async with runtime.engine.sessions() as session:
            row = await uploads.get(session, "F9")
        assert row is not None and row.status == "failed"
        assert any("`export.csv` could not be used" in m for m in notifier.messages)
        assert (await _phase(runtime, case_id))[0] == Phase.DETECTION_QUERY  # still waits
    finally:
        await runtime.stop(drain=False)


class SlowFiles(Files):
    """Downloads wait for ``gate``: a big file on a slow link."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()

    async def download(self, file_id: str, dest: Path, limit: int) -> Downloaded:
        await self.gate.wait()
        return await super().download(file_id, dest, limit)


async def test_a_slow_file_keeps_its_claim_while_it_is_worked_on(
    settings: Settings, tmp_path: Path
) -> None:
    files = SlowFiles()
    runtime, notifier, case_id = await _at_step_2(settings, tmp_path, files)
    engine = runtime.engine
    try:
        engine.config = replace(engine.config, upload_lease=1.2)  # renewed every 0.4 s
        files.post("F1", "export.csv", b"Detection Time,Severity\n", ("C1", f"{case_id}.0"))
        work = asyncio.create_task(engine.uploads.file_posted("F1"))
        await asyncio.sleep(3.0)  # two and a half leases: renewed all along
        replica = Uploads(engine.ctx, engine.dispatch, engine.tasks)  # another process's sweeper
        assert await replica.sweep() == 0
        files.gate.set()
        await work
        await engine.quiesce()
        assert (await _phase(runtime, case_id))[0] == Phase.AWAIT_TRAFFIC_DECISION
        assert files.downloads == 1
        assert sum("Received `export.csv`" in m for m in notifier.messages) == 1
    finally:
        await runtime.stop(drain=False)


async def test_a_process_that_lost_its_claim_neither_answers_nor_speaks(
    settings: Settings, tmp_path: Path
) -> None:
    files = SlowFiles()
    runtime, notifier, case_id = await _at_step_2(settings, tmp_path, files)
    engine = runtime.engine
    try:
        files.post("F1", "export.csv", b"Detection Time,Severity\n", ("C1", f"{case_id}.0"))
        work = asyncio.create_task(engine.uploads.file_posted("F1"))
        await _until(lambda: _async(any("Received" in m for m in notifier.messages)), "claim")
        # meanwhile another process judged it stale and took it over
        later = engine.clock() + timedelta(hours=1)
        async with engine.sessions.begin() as session:
            assert await uploads.retake(session, "F1", "other-process", later, engine.clock())
        files.gate.set()
        await work
        await engine.quiesce()
        async with engine.sessions() as session:
            row = await uploads.get(session, "F1")
        assert row is not None and (row.status, row.owner) == ("claimed", "other-process")
        assert (await _phase(runtime, case_id))[0] == Phase.DETECTION_QUERY  # not answered by us
        assert not [m for m in notifier.messages if "could not be used" in m]
    finally:
        await runtime.stop(drain=False)
