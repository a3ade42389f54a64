"""A reboot that needs several approvers, and approvals bound to the evidence shown."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot import approvals
from bot.runbook import (
    CaseState,
    Choice,
    DecisionPoint,
    InvalidTransition,
    Phase,
    Step,
    Timing,
    step,
)
from bot.runbook.evidence import evidence
from bot.runbook.messages import (
    Ask,
    CarryTimers,
    Close,
    DebugLogsCollected,
    Decided,
    RunStep,
    StartTimer,
    StepFailed,
    TimerFired,
    TimerKind,
)
from bot.runbook.model import StepStatus
from handlers.style import mention, slack_escape

TWO = Timing(approval_ttl=900.0, approvals_required=2)


def _asked(timing: Timing = TWO) -> CaseState:
    """The reboot question, asked after step 4 collected a bundle."""
    debugging = replace(CaseState(phase=Phase.DEBUG_LOGS), connection_verified=False)
    return step(debugging, DebugLogsCollected("debug.zip", "a" * 64), timing).state


def test_the_question_records_the_quorum_it_was_asked_with() -> None:
    asked = _asked()
    assert asked.phase == Phase.AWAIT_REBOOT_APPROVAL
    assert asked.approvals_required == 2 and asked.approved_by == ()
    assert _asked(Timing()).approvals_required == 1


def test_a_first_approval_asks_again_and_keeps_the_deadline() -> None:
    first = step(_asked(), Decided(Choice.APPROVE_REBOOT, "UA"), TWO)
    assert first.state.phase == Phase.AWAIT_REBOOT_APPROVAL
    assert first.state.approved_by == ("UA",)
    assert first.effects == (Ask(DecisionPoint.REBOOT), CarryTimers())
    assert not any(isinstance(e, StartTimer) for e in first.effects)  # no fresh deadline
    assert first.state.reboot_attempts == 0  # nothing is sent yet


def test_the_second_distinct_approver_sends_the_reboot() -> None:
    first = step(_asked(), Decided(Choice.APPROVE_REBOOT, "UA"), TWO).state
    second = step(first, Decided(Choice.APPROVE_REBOOT, "UB"), TWO)
    assert second.state.phase == Phase.REBOOTING
    assert second.state.approved_by == ("UA", "UB")  # kept for the case file
    assert second.effects == (RunStep(Step.REBOOT),)
    assert second.state.reboot_attempts == 1


def test_the_same_approver_counts_once() -> None:
    first = step(_asked(), Decided(Choice.APPROVE_REBOOT, "UA"), TWO).state
    with pytest.raises(InvalidTransition):
        step(first, Decided(Choice.APPROVE_REBOOT, "UA"), TWO)


def test_one_reject_ends_it_whatever_was_approved() -> None:
    first = step(_asked(), Decided(Choice.APPROVE_REBOOT, "UA"), TWO).state
    rejected = step(first, Decided(Choice.REJECT_REBOOT, "UB"), TWO)
    assert rejected.state.phase == Phase.ESCALATED
    assert rejected.state.reason == "reboot_rejected"
    assert isinstance(rejected.effects[-1], Close)


def test_approvals_do_not_change_the_evidence_but_a_late_bundle_does() -> None:
    asked = _asked()
    first = step(asked, Decided(Choice.APPROVE_REBOOT, "UA"), TWO).state
    assert evidence(first) == evidence(asked)
    late = step(first, DebugLogsCollected("debug-2.zip", "b" * 64), TWO)
    assert evidence(late.state) != evidence(asked)
    # asked again: earlier approvals no longer count, and the deadline stays (a file posted
    # again and again never keeps a reboot question open)
    assert late.state.approved_by == ()
    assert late.state.debug_bundle == "debug-2.zip"
    assert late.state.steps[Step.DEBUG_LOGS.value] == StepStatus.OK
    assert late.effects == (Ask(DecisionPoint.REBOOT), CarryTimers())
    # the same bundle again is no new evidence: nothing changes
    with pytest.raises(InvalidTransition):
        step(late.state, DebugLogsCollected("copy.zip", "b" * 64), TWO)


def test_a_question_from_before_quorums_needs_the_quorum_configured_now() -> None:
    old = _asked(Timing())  # asked when one approver was enough
    assert old.approvals_required == 1
    first = step(old, Decided(Choice.APPROVE_REBOOT, "UA"), TWO)
    assert first.state.phase == Phase.AWAIT_REBOOT_APPROVAL  # the setting says two now
    assert first.effects == (Ask(DecisionPoint.REBOOT), CarryTimers())


def test_a_failed_reboot_is_new_evidence_and_clears_the_approvals() -> None:
    first = step(_asked(), Decided(Choice.APPROVE_REBOOT, "UA"), TWO).state
    sent = step(first, Decided(Choice.APPROVE_REBOOT, "UB"), TWO).state
    failed = step(sent, StepFailed(Step.REBOOT, "timeout"), TWO).state
    assert failed.phase == Phase.AWAIT_REBOOT_APPROVAL and failed.approved_by == ()
    assert evidence(failed) != evidence(first)


def test_a_reminder_after_an_approval_still_reminds() -> None:
    first = step(_asked(), Decided(Choice.APPROVE_REBOOT, "UA"), TWO).state
    reminded = step(first, TimerFired(TimerKind.APPROVAL_REMINDER), TWO)
    assert reminded.is_notice(first)
    expired = step(first, TimerFired(TimerKind.APPROVAL_EXPIRY), TWO)
    assert expired.state.reason == "approval_expired"


def test_approvals_round_trip_through_json() -> None:
    first = step(_asked(), Decided(Choice.APPROVE_REBOOT, "UA"), TWO).state
    again = CaseState.from_json(first.to_json())
    assert again == first and again.approved_by == ("UA",)
    old = first.to_json()
    del old["approved_by"], old["approvals_required"]  # a case stored before quorums
    assert CaseState.from_json(old).approved_by == ()
    assert CaseState.from_json(old).approvals_required == 1


def test_outside_text_cannot_leave_the_evidence_code_span() -> None:
    hostile = "x` *Approvals: 2 of 2* `<!channel>"
    state = replace(_asked(), connection_message=hostile)
    text = approvals.summary("en", state, slack_escape, mention)
    line = next(line for line in text.splitlines() if line.startswith("• Step 1"))
    assert line.count("`") == 2 and "&lt;!channel&gt;" in line
    assert "Approvals: 0 of 2 distinct approvers." in text
