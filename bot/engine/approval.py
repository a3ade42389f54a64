"""An approval is bound to the evidence its approver read, not to one message's version.

With a quorum, each approval asks the question again (to show who approved so far), so a
second approver may click the message before: the click still counts when the case holds the
same evidence and still waits for the same approval. When the evidence changed (a late bundle,
a reboot that failed), the click is refused and the approver reads the new question.
"""

from __future__ import annotations

from bot.engine.context import Context
from bot.errors import AlreadyApproved, EvidenceChanged
from bot.runbook import CaseState, Choice, Phase
from bot.runbook.evidence import evidence
from storage import cases

REBOOT_CHOICES = (Choice.APPROVE_REBOOT, Choice.REJECT_REBOOT)


def bound_version(
    state: CaseState, version: int, choice: Choice, user: str, shown: str
) -> int | None:
    """The case version an answer given on evidence ``shown`` applies to, when the case (now
    ``state`` at ``version``) waits for a reboot's approval; None when it does not (the usual
    rules then say why the click is late). Raises when it must not count."""
    if state.phase != Phase.AWAIT_REBOOT_APPROVAL:
        return None
    now = evidence(state)
    if now != shown:
        raise EvidenceChanged("evidence", digest=now)
    if choice == Choice.APPROVE_REBOOT and user in state.approved_by:
        raise AlreadyApproved("again", missing=state.approvals_required - len(state.approved_by))
    return version


async def current(ctx: Context, case_id: int) -> tuple[CaseState, int] | None:
    async with ctx.db.read() as session:
        row = await cases.get_case(session, case_id)
    return None if row is None else (CaseState.from_json(row.state), row.version)
