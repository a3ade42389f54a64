"""Who may do what: operators run checks and answer, approvers approve reboots.

Both roles list Slack user ids and user groups (see ``roster``). With the two-person rule
(``DDI_BOT_TWO_PERSON``, on by default) whoever opened a case cannot approve its reboot.
"""

from __future__ import annotations

from bot.engine.context import EngineConfig
from bot.engine.roster import Roster
from bot.errors import NotAuthorised, NotOperator, SelfApproval
from bot.runbook import Choice


class Access:
    def __init__(self, config: EngineConfig, roster: Roster) -> None:
        self.config = config
        self.roster = roster

    async def may_run(self, user: str) -> bool:
        operators = self.config.operators
        return operators is None or await self.roster.includes(operators, user)

    async def is_approver(self, user: str) -> bool:
        return await self.roster.includes(self.config.approvers, user)

    async def check_may_decide(
        self, user: str, choice: Choice, requested_by: str | None = None
    ) -> None:
        """Raise why ``user`` may not give ``choice``; ``requested_by`` opened the case."""
        if choice == Choice.APPROVE_REBOOT:
            approvers = sorted(self.config.approvers)
            if not await self.is_approver(user):
                raise NotAuthorised(user=user, approvers=approvers)
            if self.config.two_person and requested_by == user:
                others = [a for a in approvers if a != user]
                raise SelfApproval(user=user, approvers=others)
        elif not (await self.may_run(user) or await self.is_approver(user)):
            raise NotOperator(user=user)

    async def check_may_answer(self, user: str) -> None:
        """Guided answers and files: operators, and approvers (who may answer anything)."""
        if not (await self.may_run(user) or await self.is_approver(user)):
            raise NotOperator(user=user)
