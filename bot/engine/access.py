"""Who may do what: operators run checks and answer, approvers approve reboots."""

from __future__ import annotations

from bot.engine.context import EngineConfig
from bot.errors import NotAuthorised, NotOperator
from bot.runbook import Choice


def may_run(config: EngineConfig, user: str) -> bool:
    return config.operators is None or user in config.operators


def check_may_decide(config: EngineConfig, user: str, choice: Choice) -> None:
    if choice == Choice.APPROVE_REBOOT:
        if user not in config.approvers:
            raise NotAuthorised(user=user)
    elif not (may_run(config, user) or user in config.approvers):
        raise NotOperator(user=user)


def check_may_answer(config: EngineConfig, user: str) -> None:
    """Guided answers and files: operators, and approvers (who may answer anything)."""
    if not (may_run(config, user) or user in config.approvers):
        raise NotOperator(user=user)
