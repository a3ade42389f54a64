"""An approval is bound to the evidence its approver read, not to one message's version.

With a quorum, each approval asks the question again (to show who approved so far), so a
second approver may click the message before: the click still counts when the case holds the
same evidence and still waits for the same approval. When the evidence changed (a late bundle,
a reboot that failed), the click is refused and the approver reads the new question.
"""

from __future__ import annotations

from bot.errors import AlreadyApproved, EvidenceChanged
from bot.runbook import CaseState, Choice, Phase
from bot.runbook.evidence import evidence

REBOOT_CHOICES = (Choice.APPROVE_REBOOT, Choice.REJECT_REBOOT)


def is_bound(choice: Choice, shown: str | None) -> bool:
    """A reboot's answer given on evidence ``shown`` (its button carried the digest)."""
    return shown is not None and choice in REBOOT_CHOICES


def counts_now(state: CaseState, choice: Choice, user: str, shown: str) -> bool:
    """Whether an answer given on evidence ``shown`` counts for the case as it is now: it
    waits for the reboot's approval on that evidence. False when it does not wait for it (the
    usual rules then say why the click is late); raises when the answer must be refused."""
    if state.phase != Phase.AWAIT_REBOOT_APPROVAL:
        return False
    now = evidence(state)
    if now != shown:
        raise EvidenceChanged("evidence", digest=now)
    if choice == Choice.APPROVE_REBOOT and user in state.approved_by:
        raise AlreadyApproved("again", missing=state.approvals_required - len(state.approved_by))
    return True
