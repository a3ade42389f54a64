"""A file posted in a case thread, announced to two replicas at once (Slack's event and its
retry, each reaching another replica): downloaded once, answering the step once."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest
from test_guided_durability import APPROVER, Files, _at_step_2, _phase, _start, _until

from bot.runbook import Phase
from bot.settings import Settings
from storage import uploads

EXPORT = b"Detection Time,Severity,Threat Type\n2026-12-01 10:00:00,High,Malware\n"


@pytest.fixture
def settings(postgres_url: str) -> Settings:
    return replace(
        Settings(),
        posts_per_second=100.0,
        database_url=postgres_url,
        approvers=frozenset({APPROVER}),
        appliance_timeout=0.2,
    )


async def test_a_file_announced_to_two_replicas_is_taken_once(
    settings: Settings, tmp_path: Path
) -> None:
    files = Files()  # what Slack serves, the same for both replicas
    one, notes_one, case_id = await _at_step_2(settings, tmp_path, files)
    two, notes_two = await _start(settings, tmp_path, files)  # the same data directory
    try:
        files.post("F1", "export.csv", EXPORT, ("C1", f"{case_id}.0"))
        await asyncio.gather(
            one.engine.uploads.file_posted("F1"),
            two.engine.uploads.file_posted("F1"),
            two.engine.uploads.file_posted("F1"),
        )

        async def answered() -> bool:
            return (await _phase(one, case_id))[0] == Phase.AWAIT_TRAFFIC_DECISION

        await _until(answered, "the export answered step 2")
        await one.engine.quiesce()
        await two.engine.quiesce()
        assert files.downloads == 1
        async with one.engine.sessions() as session:
            row = await uploads.get(session, "F1")
        assert row is not None and row.status == "done"
        prompts = [p for p in notes_one.prompts + notes_two.prompts if p.case_id == case_id]
        assert [p.point.value for p in prompts] == ["traffic"]  # asked once, by one replica
    finally:
        await two.stop(drain=False)
        await one.stop(drain=False)
