"""What a unit of work leaves to be carried out after its commit (a step, instructions, a
probe), and how it is written down so that another process can carry it out.

``Recorder`` is the port through which a unit of work hands its work to a job queue inside its
own transaction; in one process (the embedded default) nothing is recorded and the caller runs
the work itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.presenter import CaseView
from bot.runbook import CaseState, Step
from bot.runbook.messages import CheckNetwork, Instruct, ProbeAppliance, RunStep

WorkEffect = RunStep | Instruct | CheckNetwork | ProbeAppliance


@dataclass(frozen=True)
class Work:
    """An effect to carry out after the commit, for the case as ``view`` shows it."""

    view: CaseView
    effect: WorkEffect

    @property
    def is_reboot(self) -> bool:
        return isinstance(self.effect, RunStep) and self.effect.step == Step.REBOOT

    def key(self) -> str:
        """Names this work among all others: one case version asks for each effect once."""
        kind, step = _effect_json(self.effect)
        return f"{version_key(self.view.case_id, self.view.version)}{kind}:{step or '-'}"

    def to_json(self) -> dict[str, Any]:
        view = self.view
        kind, step = _effect_json(self.effect)
        return {
            "case_id": view.case_id,
            "appliance": view.appliance,
            "requested_by": view.requested_by,
            "lang": view.lang,
            "state": view.state.to_json(),
            "version": view.version,
            "effect": kind,
            "step": step,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Work:
        """Raise ``ValueError`` (or ``KeyError``) for anything ``to_json`` did not write."""
        view = CaseView(
            int(data["case_id"]),
            str(data["appliance"]),
            str(data["requested_by"]),
            str(data["lang"]),
            CaseState.from_json(data["state"]),
            int(data["version"]),
        )
        return cls(view, _effect_from(str(data["effect"]), data.get("step")))


def version_key(case_id: int, version: int) -> str:
    """How the key of every work of one case version begins."""
    return f"case:{case_id}:v{version}:"


def version_key_of(key: str) -> str:
    """The ``version_key`` a work's ``key`` begins with."""
    return key.rsplit(":", 2)[0] + ":"


def _effect_json(effect: WorkEffect) -> tuple[str, int | None]:
    match effect:
        case RunStep(step=step):
            return "run_step", step.value
        case Instruct(step=step):
            return "instruct", step.value
        case CheckNetwork():
            return "check_network", None
        case ProbeAppliance():
            return "probe_appliance", None


def _effect_from(kind: str, step: Any) -> WorkEffect:
    if kind == "run_step":
        return RunStep(Step(int(step)))
    if kind == "instruct":
        return Instruct(Step(int(step)))
    if kind == "check_network":
        return CheckNetwork()
    if kind == "probe_appliance":
        return ProbeAppliance()
    raise ValueError(f"unknown effect {kind!r}")


class Recorder(Protocol):
    async def __call__(self, session: AsyncSession, work: Sequence[Work]) -> None:
        """Write ``work`` down in the transaction of ``session`` (raise to roll it back)."""
        ...


async def record_nothing(session: AsyncSession, work: Sequence[Work]) -> None:
    """One process: the work is run by whoever applied the change, after the commit."""
