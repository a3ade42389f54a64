"""Work as a job queue writes it down: read back exactly, named once per case version."""

from __future__ import annotations

import pytest

from bot.engine.work import Work
from bot.presenter import CaseView
from bot.runbook import Step
from bot.runbook import start as start_runbook
from bot.runbook.messages import CheckNetwork, Instruct, ProbeAppliance, RunStep


def _view(version: int = 3) -> CaseView:
    state = start_runbook(False).state
    return CaseView(7, "ddi-<b>", "U1", "ja", state, version)


@pytest.mark.parametrize(
    "effect",
    [RunStep(Step.PACKET_CAPTURE), RunStep(Step.REBOOT), Instruct(Step.CONNECTION_TEST),
     CheckNetwork(), ProbeAppliance()],
)  # fmt: skip
def test_work_reads_back_as_it_was_written(effect: object) -> None:
    work = Work(_view(), effect)  # type: ignore[arg-type]
    assert Work.from_json(work.to_json()) == work


def test_only_the_reboot_is_the_reboot() -> None:
    assert Work(_view(), RunStep(Step.REBOOT)).is_reboot
    assert not Work(_view(), RunStep(Step.DEBUG_LOGS)).is_reboot
    assert not Work(_view(), Instruct(Step.REBOOT)).is_reboot


def test_keys_differ_by_case_version_and_effect() -> None:
    keys = {
        Work(_view(3), RunStep(Step.DEBUG_LOGS)).key(),
        Work(_view(4), RunStep(Step.DEBUG_LOGS)).key(),
        Work(_view(3), Instruct(Step.DEBUG_LOGS)).key(),
        Work(_view(3), CheckNetwork()).key(),
        Work(_view(3), ProbeAppliance()).key(),
    }
    assert len(keys) == 5
    assert Work(_view(3), CheckNetwork()).key() == Work(_view(3), CheckNetwork()).key()


def test_a_job_not_written_by_the_bot_is_refused() -> None:
    data = Work(_view(), CheckNetwork()).to_json()
    with pytest.raises(ValueError, match="unknown effect 'format_disk'"):
        Work.from_json({**data, "effect": "format_disk"})
    with pytest.raises(ValueError):
        Work.from_json({**data, "effect": "run_step", "step": 9})
