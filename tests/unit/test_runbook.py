"""Every transition of the runbook, as a table of (state, observation) -> (state, effects)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.runbook import (
    CaseState,
    Choice,
    DecisionPoint,
    InvalidTransition,
    Outcome,
    Phase,
    Step,
    Timing,
    start,
    step,
)
from bot.runbook.messages import (
    ApplianceProbed,
    Ask,
    CaptureAnalysed,
    CheckNetwork,
    Close,
    ConnectionTested,
    DebugLogsCollected,
    Decided,
    DetectionsCounted,
    Instruct,
    Observation,
    ProbeAppliance,
    RebootInterrupted,
    RebootSent,
    Remind,
    RunStep,
    StartTimer,
    StepFailed,
    ThreadFailed,
    TimerFired,
    TimerKind,
)
from bot.runbook.model import StepStatus

T = Timing(recheck_delay=100.0, poll_interval=5.0, reboot_timeout=60.0, approval_ttl=900.0)
ASK_REBOOT = (
    Ask(DecisionPoint.REBOOT),
    StartTimer(TimerKind.APPROVAL_EXPIRY, 900.0),
    StartTimer(TimerKind.APPROVAL_REMINDER, 450.0),  # at half of the approval's time
)


def at(phase: Phase, **changes: object) -> CaseState:
    return replace(CaseState(phase=phase), **changes)  # type: ignore[arg-type]


def d(choice: Choice) -> Decided:
    return Decided(choice, "U1")


TABLE: list[tuple[str, CaseState, Observation, Phase, tuple[object, ...]]] = [
    (
        "step1 verified -> step2",
        at(Phase.CONNECTION_TEST),
        ConnectionTested(True, "Verified Connection"),
        Phase.DETECTION_QUERY,
        (RunStep(Step.DETECTION_QUERY),),
    ),
    (
        "step1 failed still -> step2",
        at(Phase.CONNECTION_TEST),
        ConnectionTested(False, "Unable to connect"),
        Phase.DETECTION_QUERY,
        (RunStep(Step.DETECTION_QUERY),),
    ),
    (
        "step1 cannot run -> retry?",
        at(Phase.CONNECTION_TEST),
        StepFailed(Step.CONNECTION_TEST, "timeout"),
        Phase.AWAIT_RETRY,
        (Ask(DecisionPoint.RETRY),),
    ),
    (
        "detections -> offer step4",
        at(Phase.DETECTION_QUERY),
        DetectionsCounted(12),
        Phase.AWAIT_DEBUG_DECISION,
        (Ask(DecisionPoint.DEBUG),),
    ),
    (
        "no detections -> quiet or capture?",
        at(Phase.DETECTION_QUERY),
        DetectionsCounted(0),
        Phase.AWAIT_TRAFFIC_DECISION,
        (Ask(DecisionPoint.TRAFFIC),),
    ),
    (
        "no detections, though this sensor usually has some -> still a person's call",
        at(Phase.DETECTION_QUERY),
        DetectionsCounted(0, per_day=40.5),
        Phase.AWAIT_TRAFFIC_DECISION,
        (Ask(DecisionPoint.TRAFFIC),),
    ),
    (
        "step2 cannot run",
        at(Phase.DETECTION_QUERY),
        StepFailed(Step.DETECTION_QUERY, "protocol"),
        Phase.AWAIT_RETRY,
        (Ask(DecisionPoint.RETRY),),
    ),
    (
        "quiet -> recheck later",
        at(Phase.AWAIT_TRAFFIC_DECISION),
        d(Choice.QUIET),
        Phase.RECHECK_WAIT,
        (StartTimer(TimerKind.RECHECK, 100.0), Ask(DecisionPoint.RECHECK)),
    ),
    (
        "busy -> capture",
        at(Phase.AWAIT_TRAFFIC_DECISION),
        d(Choice.CAPTURE),
        Phase.PACKET_CAPTURE,
        (RunStep(Step.PACKET_CAPTURE),),
    ),
    (
        "recheck due -> step2 again",
        at(Phase.RECHECK_WAIT),
        TimerFired(TimerKind.RECHECK),
        Phase.DETECTION_QUERY,
        (RunStep(Step.DETECTION_QUERY),),
    ),
    (
        "traffic -> offer step4",
        at(Phase.PACKET_CAPTURE),
        CaptureAnalysed(500, True),
        Phase.AWAIT_DEBUG_DECISION,
        (Ask(DecisionPoint.DEBUG),),
    ),
    (
        "no traffic -> wait for fix",
        at(Phase.PACKET_CAPTURE),
        CaptureAnalysed(0, False),
        Phase.AWAIT_FIX,
        (Ask(DecisionPoint.FIX),),
    ),
    (
        "step3 cannot run",
        at(Phase.PACKET_CAPTURE),
        StepFailed(Step.PACKET_CAPTURE, "timeout"),
        Phase.AWAIT_RETRY,
        (Ask(DecisionPoint.RETRY),),
    ),
    (
        "fixed -> capture again",
        at(Phase.AWAIT_FIX),
        d(Choice.CAPTURE_AGAIN),
        Phase.PACKET_CAPTURE,
        (RunStep(Step.PACKET_CAPTURE),),
    ),
    (
        "no fix -> escalate",
        at(Phase.AWAIT_FIX),
        d(Choice.ESCALATE),
        Phase.ESCALATED,
        (Close(Outcome.ESCALATED),),
    ),
    (
        "collect debug logs",
        at(Phase.AWAIT_DEBUG_DECISION),
        d(Choice.COLLECT),
        Phase.DEBUG_LOGS,
        (RunStep(Step.DEBUG_LOGS),),
    ),
    (
        "skip debug logs -> approval",
        at(Phase.AWAIT_DEBUG_DECISION),
        d(Choice.SKIP),
        Phase.AWAIT_REBOOT_APPROVAL,
        ASK_REBOOT,
    ),
    (
        "debug logs collected -> approval",
        at(Phase.DEBUG_LOGS),
        DebugLogsCollected("debug.zip", "ab" * 32),
        Phase.AWAIT_REBOOT_APPROVAL,
        ASK_REBOOT,
    ),
    (
        "step4 cannot run",
        at(Phase.DEBUG_LOGS),
        StepFailed(Step.DEBUG_LOGS, "unreachable"),
        Phase.AWAIT_RETRY,
        (Ask(DecisionPoint.RETRY),),
    ),
    (
        "approved -> reboot",
        at(Phase.AWAIT_REBOOT_APPROVAL),
        d(Choice.APPROVE_REBOOT),
        Phase.REBOOTING,
        (RunStep(Step.REBOOT),),
    ),
    (
        "rejected -> escalated",
        at(Phase.AWAIT_REBOOT_APPROVAL),
        d(Choice.REJECT_REBOOT),
        Phase.ESCALATED,
        (Close(Outcome.ESCALATED),),
    ),
    (
        "reboot sent -> wait to see it down",
        at(Phase.REBOOTING),
        RebootSent(1000.0),
        Phase.WAIT_FOR_DOWN,
        (StartTimer(TimerKind.POLL_APPLIANCE, 5.0),),
    ),
    (
        "guided: approval -> a person is told to reboot it",
        at(Phase.AWAIT_REBOOT_APPROVAL, guided=True),
        d(Choice.APPROVE_REBOOT),
        Phase.REBOOT_INSTRUCTED,
        (Instruct(Step.REBOOT),),
    ),
    (
        "guided: the person rebooted it -> wait to see it down",
        at(Phase.REBOOT_INSTRUCTED, guided=True),
        RebootSent(1000.0),
        Phase.WAIT_FOR_DOWN,
        (StartTimer(TimerKind.POLL_APPLIANCE, 5.0),),
    ),
    (
        "guided: step 1 result -> a person does step 2",
        at(Phase.CONNECTION_TEST, guided=True),
        ConnectionTested(True, "Verified Connection"),
        Phase.DETECTION_QUERY,
        (Instruct(Step.DETECTION_QUERY),),
    ),
    (
        "the thread cannot be posted -> abandoned",
        at(Phase.CONNECTION_TEST),
        ThreadFailed("not_in_channel"),
        Phase.ABANDONED,
        (Close(Outcome.ABANDONED),),
    ),
    (
        "reboot request failed -> ask again",
        at(Phase.REBOOTING),
        StepFailed(Step.REBOOT, "unreachable"),
        Phase.AWAIT_REBOOT_APPROVAL,
        ASK_REBOOT,
    ),
    (
        "crash during reboot -> ask a person",
        at(Phase.REBOOTING),
        RebootInterrupted(),
        Phase.AWAIT_REBOOT_APPROVAL,
        ASK_REBOOT,
    ),
    (
        "poll due -> probe",
        at(Phase.WAIT_FOR_DOWN, wait_deadline=60.0),
        TimerFired(TimerKind.POLL_APPLIANCE),
        Phase.WAIT_FOR_DOWN,
        (ProbeAppliance(),),
    ),
    (
        "seen down -> wait for it to come back",
        at(Phase.WAIT_FOR_DOWN, wait_deadline=60.0),
        ApplianceProbed(False, 30.0),
        Phase.WAIT_FOR_BACK,
        (StartTimer(TimerKind.POLL_APPLIANCE, 5.0),),
    ),
    (
        "still down -> poll later",
        at(Phase.WAIT_FOR_BACK, wait_deadline=60.0),
        ApplianceProbed(False, 30.0),
        Phase.WAIT_FOR_BACK,
        (StartTimer(TimerKind.POLL_APPLIANCE, 5.0),),
    ),
    (
        "down past deadline -> escalated",
        at(Phase.WAIT_FOR_BACK, wait_deadline=60.0),
        ApplianceProbed(False, 61.0),
        Phase.ESCALATED,
        (Close(Outcome.ESCALATED),),
    ),
    (
        "back after being seen down -> verify step1",
        at(Phase.WAIT_FOR_BACK, wait_deadline=60.0),
        ApplianceProbed(True, 20.0),
        Phase.VERIFY_CONNECTION,
        (RunStep(Step.CONNECTION_TEST),),
    ),
    (
        "guided: back -> a person runs the connection test again",
        at(Phase.WAIT_FOR_BACK, wait_deadline=60.0, guided=True),
        ApplianceProbed(True, 20.0),
        Phase.VERIFY_CONNECTION,
        (Instruct(Step.CONNECTION_TEST),),
    ),
    (
        "verified after reboot -> resolved",
        at(Phase.VERIFY_CONNECTION),
        ConnectionTested(True, "Verified Connection"),
        Phase.RESOLVED,
        (Close(Outcome.RESOLVED),),
    ),
    (
        "still failing after reboot -> escalated",
        at(Phase.VERIFY_CONNECTION),
        ConnectionTested(False, "Unable to connect"),
        Phase.ESCALATED,
        (Close(Outcome.ESCALATED),),
    ),
    (
        "verify cannot run",
        at(Phase.VERIFY_CONNECTION),
        StepFailed(Step.CONNECTION_TEST, "timeout"),
        Phase.AWAIT_RETRY,
        (Ask(DecisionPoint.RETRY),),
    ),
    (
        "retry step2",
        at(Phase.AWAIT_RETRY, failed_step=Step.DETECTION_QUERY),
        d(Choice.RETRY),
        Phase.DETECTION_QUERY,
        (RunStep(Step.DETECTION_QUERY),),
    ),
    (
        "give up -> escalated",
        at(Phase.AWAIT_RETRY, failed_step=Step.CONNECTION_TEST),
        d(Choice.ESCALATE),
        Phase.ESCALATED,
        (Close(Outcome.ESCALATED),),
    ),
    (
        "escalate from any question",
        at(Phase.AWAIT_TRAFFIC_DECISION),
        d(Choice.ESCALATE),
        Phase.ESCALATED,
        (Close(Outcome.ESCALATED),),
    ),
    (
        "still answering right after the reboot -> not back yet",
        at(Phase.WAIT_FOR_DOWN, wait_deadline=300.0, reboot_sent_at=0.0),
        ApplianceProbed(True, 5.0),
        Phase.WAIT_FOR_DOWN,
        (StartTimer(TimerKind.POLL_APPLIANCE, 5.0),),
    ),
    (
        "never seen down, but answering after the grace -> verify",
        at(Phase.WAIT_FOR_DOWN, wait_deadline=300.0, reboot_sent_at=0.0),
        ApplianceProbed(True, 121.0),
        Phase.VERIFY_CONNECTION,
        (RunStep(Step.CONNECTION_TEST),),
    ),
    (
        "half of the approval's time gone -> the approvers are reminded, nothing else changes",
        at(Phase.AWAIT_REBOOT_APPROVAL),
        TimerFired(TimerKind.APPROVAL_REMINDER),
        Phase.AWAIT_REBOOT_APPROVAL,
        (Remind(DecisionPoint.REBOOT),),
    ),
    (
        "approval unanswered too long -> escalated",
        at(Phase.AWAIT_REBOOT_APPROVAL),
        TimerFired(TimerKind.APPROVAL_EXPIRY),
        Phase.ESCALATED,
        (Close(Outcome.ESCALATED),),
    ),
    (
        "re-check now instead of waiting",
        at(Phase.RECHECK_WAIT),
        d(Choice.RECHECK_NOW),
        Phase.DETECTION_QUERY,
        (RunStep(Step.DETECTION_QUERY),),
    ),
    (
        "operator stops a running step",
        at(Phase.PACKET_CAPTURE),
        d(Choice.ESCALATE),
        Phase.ESCALATED,
        (Close(Outcome.ESCALATED),),
    ),
    (
        "operator stops the wait for a rebooted sensor",
        at(Phase.WAIT_FOR_BACK, wait_deadline=60.0),
        d(Choice.ESCALATE),
        Phase.ESCALATED,
        (Close(Outcome.ESCALATED),),
    ),
]


@pytest.mark.parametrize(
    ("name", "state", "obs", "phase", "effects"), TABLE, ids=[r[0] for r in TABLE]
)
def test_transition(
    name: str, state: CaseState, obs: Observation, phase: Phase, effects: tuple[object, ...]
) -> None:
    decision = step(state, obs, T)
    assert decision.state.phase == phase
    assert decision.effects == effects


def test_start_checks_the_network_then_runs_step1() -> None:
    decision = start()
    assert decision.state.phase == Phase.CONNECTION_TEST
    assert decision.effects == (CheckNetwork(), RunStep(Step.CONNECTION_TEST))
    assert decision.state.steps[1] == StepStatus.RUNNING


def test_a_guided_case_starts_with_instructions_for_a_person() -> None:
    decision = start(guided=True)
    assert decision.state.guided is True
    assert decision.effects == (CheckNetwork(), Instruct(Step.CONNECTION_TEST))
    assert decision.state.steps[1] == StepStatus.ON_CONSOLE
    assert decision.state.person_step() == Step.CONNECTION_TEST
    assert start().state.person_step() is None


def test_a_reboot_a_person_was_told_to_do_waits_for_that_person() -> None:
    state = at(Phase.REBOOT_INSTRUCTED, guided=True)
    assert state.person_step() == Step.REBOOT
    with pytest.raises(InvalidTransition):  # only the bot's own sending can be interrupted
        step(state, RebootInterrupted())


def test_step1_result_is_recorded_exactly() -> None:
    decision = step(at(Phase.CONNECTION_TEST), ConnectionTested(False, "Unable to connect <x>"))
    assert decision.state.connection_verified is False
    assert decision.state.connection_message == "Unable to connect <x>"
    assert decision.state.steps[1] == StepStatus.PROBLEM


def test_retry_after_reboot_goes_back_to_verification() -> None:
    state = at(Phase.VERIFY_CONNECTION).with_step(Step.REBOOT, StepStatus.OK)
    failed = step(state, StepFailed(Step.CONNECTION_TEST, "timeout")).state
    again = step(failed, d(Choice.RETRY))
    assert again.state.phase == Phase.VERIFY_CONNECTION


def test_a_probe_that_finds_it_down_is_remembered() -> None:
    state = at(Phase.WAIT_FOR_DOWN, wait_deadline=300.0, reboot_sent_at=0.0)
    down = step(state, ApplianceProbed(False, 2.0), T).state
    assert down.phase == Phase.WAIT_FOR_BACK
    assert step(down, ApplianceProbed(True, 4.0), T).state.phase == Phase.VERIFY_CONNECTION


def test_verification_keeps_step1_result_for_the_vendor() -> None:
    state = at(Phase.VERIFY_CONNECTION, connection_message="Unable to connect")
    done = step(state, ConnectionTested(True, "Verified Connection"), T).state
    assert done.connection_message == "Unable to connect"
    assert done.verify_message == "Verified Connection"


def test_approval_counts_reboot_attempts_and_deadline() -> None:
    approved = step(at(Phase.AWAIT_REBOOT_APPROVAL), d(Choice.APPROVE_REBOOT), T).state
    assert approved.reboot_attempts == 1
    waiting = step(approved, RebootSent(1000.0), T).state
    assert waiting.wait_deadline == 1060.0


def test_interrupted_reboot_is_flagged_for_the_approver() -> None:
    decision = step(at(Phase.REBOOTING, reboot_attempts=1), RebootInterrupted())
    assert decision.state.reboot_interrupted is True
    assert decision.state.reboot_attempts == 1


@pytest.mark.parametrize(
    ("state", "obs"),
    [
        (at(Phase.RESOLVED), ConnectionTested(True, "Verified Connection")),
        (at(Phase.ESCALATED), d(Choice.RETRY)),
        (at(Phase.AWAIT_TRAFFIC_DECISION), d(Choice.APPROVE_REBOOT)),
        (at(Phase.AWAIT_DEBUG_DECISION), d(Choice.QUIET)),
        (at(Phase.CONNECTION_TEST), d(Choice.APPROVE_REBOOT)),
        (at(Phase.DETECTION_QUERY), CaptureAnalysed(1, True)),
        (at(Phase.AWAIT_REBOOT_APPROVAL), RebootSent(1.0)),
        (at(Phase.RECHECK_WAIT), TimerFired(TimerKind.POLL_APPLIANCE)),
        (at(Phase.AWAIT_FIX), StepFailed(Step.PACKET_CAPTURE, "timeout")),
        (at(Phase.REBOOT_INSTRUCTED, guided=True), RebootInterrupted()),
        (at(Phase.ABANDONED), ThreadFailed("not_in_channel")),
    ],
)
def test_unexpected_observations_are_rejected(state: CaseState, obs: Observation) -> None:
    with pytest.raises(InvalidTransition):
        step(state, obs)


def test_state_round_trips_through_json() -> None:
    state = step(at(Phase.REBOOTING, reboot_attempts=1), StepFailed(Step.REBOOT, "tls")).state
    assert CaseState.from_json(state.to_json()) == state


def test_every_phase_is_reachable_from_the_table() -> None:
    reached = {row[3] for row in TABLE} | {start().state.phase}
    assert reached == set(Phase)


def test_a_reminder_is_a_notice_and_nothing_else_is() -> None:
    waiting = at(Phase.AWAIT_REBOOT_APPROVAL)
    reminded = step(waiting, TimerFired(TimerKind.APPROVAL_REMINDER), T)
    assert reminded.is_notice(waiting) and reminded.state == waiting
    polled = at(Phase.WAIT_FOR_DOWN, wait_deadline=300.0, reboot_sent_at=0.0)
    assert not step(polled, TimerFired(TimerKind.POLL_APPLIANCE), T).is_notice(polled)
    assert not step(waiting, TimerFired(TimerKind.APPROVAL_EXPIRY), T).is_notice(waiting)
