"""The five-step DDI runbook as a pure state machine: ``step(state, observation) -> Decision``."""

from bot.runbook.machine import Decision, InvalidTransition, Timing, start, step
from bot.runbook.model import CaseState, Choice, DecisionPoint, Outcome, Phase, Step

__all__ = [
    "CaseState",
    "Choice",
    "Decision",
    "DecisionPoint",
    "InvalidTransition",
    "Outcome",
    "Phase",
    "Step",
    "Timing",
    "start",
    "step",
]
