"""The runbook's transitions. No I/O: the engine feeds observations in and carries effects out."""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.runbook.messages import (
    ApplianceProbed,
    Ask,
    CaptureAnalysed,
    CarryTimers,
    CheckNetwork,
    Close,
    ConnectionTested,
    DebugLogsCollected,
    Decided,
    DetectionsCounted,
    Effect,
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
from bot.runbook.model import (
    AWAITING,
    CaseState,
    Choice,
    DecisionPoint,
    Outcome,
    Phase,
    Step,
)
from bot.runbook.model import StepStatus as S


@dataclass(frozen=True)
class Timing:
    """How long the runbook waits for things, and how many people a reboot needs."""

    recheck_delay: float = 6 * 3600.0  # quiet sensor: run step 2 again after this long
    poll_interval: float = 15.0  # after a reboot: probe the appliance this often
    reboot_timeout: float = 20 * 60.0  # escalate if it is not back within this long
    # An appliance that still answers right after the reboot request may not have gone down
    # yet: "back" counts only once it was seen down, or after this long.
    reboot_grace: float = 120.0
    # An approval is asked for the sensor as it was then; unanswered this long, the case
    # escalates rather than let a click days later reboot it.
    approval_ttl: float = 4 * 3600.0
    # distinct approvers a reboot needs (``DDI_BOT_APPROVALS_REQUIRED``)
    approvals_required: int = 1


@dataclass(frozen=True)
class Decision:
    state: CaseState
    effects: tuple[Effect, ...]

    def is_notice(self, before: CaseState) -> bool:
        """Only reminders, the state untouched: the case keeps its version (the question's
        buttons stay valid)."""
        return (
            self.state == before
            and bool(self.effects)
            and all(isinstance(e, Remind) for e in self.effects)
        )


class InvalidTransition(Exception):
    def __init__(self, phase: Phase, observation: Observation) -> None:
        super().__init__(f"{type(observation).__name__} is not expected in phase {phase.value}")
        self.phase = phase
        self.observation = observation


def start(guided: bool = False) -> Decision:
    """A new case: the bot's own network checks, then step 1 (by the bot, or by a person)."""
    decision = _run(CaseState(phase=Phase.CONNECTION_TEST, guided=guided), Step.CONNECTION_TEST)
    return Decision(decision.state, (CheckNetwork(), *decision.effects))


def step(state: CaseState, obs: Observation, timing: Timing = Timing()) -> Decision:
    """Next state and effects for ``obs`` in ``state``; raises ``InvalidTransition``."""
    phase = state.phase
    if phase.closed:
        raise InvalidTransition(phase, obs)
    if isinstance(obs, ThreadFailed):
        return _close(state, Outcome.ABANDONED, "thread_failed")
    if isinstance(obs, Decided):
        if obs.choice == Choice.ESCALATE and state.phase not in AWAITING:
            # a person may stop any case at any time (for example one stuck on a dead sensor)
            return _close(state, Outcome.ESCALATED, "escalated_by_operator")
        return _decided(state, obs, timing)
    if isinstance(obs, StepFailed) and obs.step != Step.REBOOT:
        return _step_failed(state, obs)
    match phase, obs:
        case Phase.CONNECTION_TEST, ConnectionTested(verified=ok, message=text):
            status = S.OK if ok else S.PROBLEM
            nxt = state.with_step(Step.CONNECTION_TEST, status, phase=Phase.DETECTION_QUERY)
            nxt = replace(nxt, connection_verified=ok, connection_message=text)
            return _run(nxt, Step.DETECTION_QUERY)
        case Phase.DETECTION_QUERY, DetectionsCounted(count=n, per_day=usual) if n > 0:
            nxt = state.with_step(
                Step.DETECTION_QUERY, S.OK, detections=n, detections_per_day=usual
            )
            return _offer_debug_logs(nxt)
        case Phase.DETECTION_QUERY, DetectionsCounted(count=n, per_day=usual):
            nxt = state.with_step(
                Step.DETECTION_QUERY, S.WAITING, detections=n, detections_per_day=usual
            )
            return _ask(replace(nxt, phase=Phase.AWAIT_TRAFFIC_DECISION), DecisionPoint.TRAFFIC)
        case Phase.RECHECK_WAIT, TimerFired(kind=TimerKind.RECHECK):
            return _run(replace(state, phase=Phase.DETECTION_QUERY), Step.DETECTION_QUERY)
        case Phase.PACKET_CAPTURE, CaptureAnalysed(packets=n, receiving=True):
            nxt = state.with_step(Step.PACKET_CAPTURE, S.OK, capture_packets=n)
            return _offer_debug_logs(replace(nxt, capture_receiving=True))
        case Phase.PACKET_CAPTURE, CaptureAnalysed(packets=n, receiving=False):
            nxt = state.with_step(Step.PACKET_CAPTURE, S.PROBLEM, capture_packets=n)
            nxt = replace(nxt, capture_receiving=False, phase=Phase.AWAIT_FIX)
            return _ask(nxt, DecisionPoint.FIX)
        case Phase.DEBUG_LOGS, DebugLogsCollected(filename=name, sha256=digest):
            nxt = state.with_step(Step.DEBUG_LOGS, S.OK, debug_bundle=name, debug_sha256=digest)
            return _ask_reboot(nxt, timing)
        case Phase.AWAIT_REBOOT_APPROVAL, DebugLogsCollected(filename=name, sha256=digest) if (
            digest != state.debug_sha256
        ):
            # a late bundle is new evidence: approvals given before it no longer count and the
            # question is asked again, with the deadline it had (posting files never delays it)
            nxt = state.with_step(Step.DEBUG_LOGS, S.OK, debug_bundle=name, debug_sha256=digest)
            nxt = replace(nxt, approved_by=())
            return Decision(nxt, (Ask(DecisionPoint.REBOOT), CarryTimers()))
        case ((Phase.REBOOTING | Phase.REBOOT_INSTRUCTED), RebootSent(at=sent_at)):
            nxt = replace(
                state,
                phase=Phase.WAIT_FOR_DOWN,
                wait_deadline=sent_at + timing.reboot_timeout,
                reboot_interrupted=False,
                reboot_sent_at=sent_at,
            )
            return _poll(nxt, timing)
        case Phase.REBOOTING, StepFailed():
            # A reboot is never retried without a person: ask for approval again.
            nxt = state.with_step(Step.REBOOT, S.FAILED, failed_step=Step.REBOOT, failure=obs.code)
            return _ask_reboot(nxt, timing)
        case Phase.REBOOTING, RebootInterrupted():
            nxt = state.with_step(Step.REBOOT, S.WAITING, reboot_interrupted=True)
            return _ask_reboot(nxt, timing)
        case Phase.AWAIT_REBOOT_APPROVAL, TimerFired(kind=TimerKind.APPROVAL_REMINDER):
            return Decision(state, (Remind(DecisionPoint.REBOOT),))
        case Phase.AWAIT_REBOOT_APPROVAL, TimerFired(kind=TimerKind.APPROVAL_EXPIRY):
            nxt = state.with_step(Step.REBOOT, S.SKIPPED)
            return _close(nxt, Outcome.ESCALATED, "approval_expired")
        case (
            (Phase.WAIT_FOR_DOWN | Phase.WAIT_FOR_BACK),
            TimerFired(kind=TimerKind.POLL_APPLIANCE),
        ):
            return Decision(state, (ProbeAppliance(),))
        case Phase.WAIT_FOR_DOWN, ApplianceProbed(up=True, at=at) if (
            at >= (state.reboot_sent_at or 0.0) + timing.reboot_grace
        ):
            # It still answers after the grace period: it may have rebooted faster than we
            # polled. Step 1 tells whether it works now.
            return _back(state)
        case Phase.WAIT_FOR_BACK, ApplianceProbed(up=True):
            return _back(state)
        case ((Phase.WAIT_FOR_DOWN | Phase.WAIT_FOR_BACK), ApplianceProbed(up=up, at=at)):
            if state.wait_deadline is not None and at >= state.wait_deadline:
                nxt = state.with_step(Step.REBOOT, S.FAILED)
                return _close(nxt, Outcome.ESCALATED, "did_not_return")
            nxt = state if up else replace(state, phase=Phase.WAIT_FOR_BACK)
            return _poll(nxt, timing)
        case Phase.VERIFY_CONNECTION, ConnectionTested(verified=ok, message=text):
            status = S.OK if ok else S.PROBLEM
            nxt = state.with_step(Step.CONNECTION_TEST, status, verified_after_reboot=ok)
            nxt = replace(nxt, verify_message=text)
            if ok:
                return _close(nxt, Outcome.RESOLVED, "verified_after_reboot")
            return _close(nxt, Outcome.ESCALATED, "still_failing_after_reboot")
    raise InvalidTransition(phase, obs)


def _decided(state: CaseState, obs: Decided, timing: Timing) -> Decision:
    point = AWAITING.get(state.phase)
    if point is None:
        raise InvalidTransition(state.phase, obs)
    match point, obs.choice:
        case _, Choice.ESCALATE:
            return _close(state, Outcome.ESCALATED, f"escalated_at_{point.value}")
        case DecisionPoint.TRAFFIC, Choice.QUIET:
            nxt = replace(state, phase=Phase.RECHECK_WAIT, rechecks=state.rechecks + 1)
            timer = StartTimer(TimerKind.RECHECK, timing.recheck_delay)
            return Decision(nxt, (timer, Ask(DecisionPoint.RECHECK)))
        case DecisionPoint.RECHECK, Choice.RECHECK_NOW:
            return _run(replace(state, phase=Phase.DETECTION_QUERY), Step.DETECTION_QUERY)
        case DecisionPoint.TRAFFIC, Choice.CAPTURE:
            nxt = state.with_step(Step.DETECTION_QUERY, S.OK, phase=Phase.PACKET_CAPTURE)
            return _run(nxt, Step.PACKET_CAPTURE)
        case DecisionPoint.FIX, Choice.CAPTURE_AGAIN:
            return _run(replace(state, phase=Phase.PACKET_CAPTURE), Step.PACKET_CAPTURE)
        case DecisionPoint.DEBUG, Choice.COLLECT:
            return _run(replace(state, phase=Phase.DEBUG_LOGS), Step.DEBUG_LOGS)
        case DecisionPoint.DEBUG, Choice.SKIP:
            return _ask_reboot(state.with_step(Step.DEBUG_LOGS, S.SKIPPED), timing)
        case DecisionPoint.REBOOT, Choice.APPROVE_REBOOT if obs.user in state.approved_by:
            raise InvalidTransition(state.phase, obs)  # one person counts once
        case DecisionPoint.REBOOT, Choice.APPROVE_REBOOT if (
            # a question asked before quorums were stored, or under a lower setting, needs
            # what is configured now: never fewer approvers than asked for
            len(state.approved_by) + 1 < max(state.approvals_required, timing.approvals_required)
        ):
            # not enough yet: ask again, showing who approved; the deadline stays as it was
            nxt = replace(state, approved_by=(*state.approved_by, obs.user))
            return Decision(nxt, (Ask(DecisionPoint.REBOOT), CarryTimers()))
        case DecisionPoint.REBOOT, Choice.APPROVE_REBOOT:
            nxt = replace(
                state,
                approved_by=(*state.approved_by, obs.user),
                phase=Phase.REBOOT_INSTRUCTED if state.guided else Phase.REBOOTING,
                reboot_attempts=state.reboot_attempts + 1,
                failed_step=None,
                failure=None,
            )
            return _run(nxt, Step.REBOOT)
        case DecisionPoint.REBOOT, Choice.REJECT_REBOOT:
            nxt = state.with_step(Step.REBOOT, S.SKIPPED)
            return _close(nxt, Outcome.ESCALATED, "reboot_rejected")
        case DecisionPoint.RETRY, Choice.RETRY:
            failed = state.failed_step or Step.CONNECTION_TEST
            again = _RETRY_PHASE[failed]
            if failed == Step.CONNECTION_TEST and state.steps[Step.REBOOT.value] == S.OK:
                again = Phase.VERIFY_CONNECTION
            return _run(replace(state, phase=again, failed_step=None, failure=None), failed)
    raise InvalidTransition(state.phase, obs)


_RETRY_PHASE = {
    Step.CONNECTION_TEST: Phase.CONNECTION_TEST,
    Step.DETECTION_QUERY: Phase.DETECTION_QUERY,
    Step.PACKET_CAPTURE: Phase.PACKET_CAPTURE,
    Step.DEBUG_LOGS: Phase.DEBUG_LOGS,
}


def _step_failed(state: CaseState, obs: StepFailed) -> Decision:
    if state.phase not in (
        Phase.CONNECTION_TEST,
        Phase.DETECTION_QUERY,
        Phase.PACKET_CAPTURE,
        Phase.DEBUG_LOGS,
        Phase.VERIFY_CONNECTION,
    ):
        raise InvalidTransition(state.phase, obs)
    nxt = state.with_step(obs.step, S.FAILED, failed_step=obs.step, failure=obs.code)
    return _ask(replace(nxt, phase=Phase.AWAIT_RETRY), DecisionPoint.RETRY)


def _run(state: CaseState, which: Step) -> Decision:
    """The step starts: the bot runs it, or a person is told how to do it on the console."""
    if state.guided:
        return Decision(state.with_step(which, S.ON_CONSOLE), (Instruct(which),))
    return Decision(state.with_step(which, S.RUNNING), (RunStep(which),))


def _poll(state: CaseState, timing: Timing) -> Decision:
    return Decision(state, (StartTimer(TimerKind.POLL_APPLIANCE, timing.poll_interval),))


def _back(state: CaseState) -> Decision:
    nxt = state.with_step(Step.REBOOT, S.OK, phase=Phase.VERIFY_CONNECTION)
    return _run(nxt, Step.CONNECTION_TEST)


def _ask(state: CaseState, point: DecisionPoint) -> Decision:
    return Decision(state, (Ask(point),))


def _offer_debug_logs(state: CaseState) -> Decision:
    nxt = state.with_step(Step.DEBUG_LOGS, S.WAITING, phase=Phase.AWAIT_DEBUG_DECISION)
    return _ask(nxt, DecisionPoint.DEBUG)


def _ask_reboot(state: CaseState, timing: Timing) -> Decision:
    nxt = state.with_step(
        Step.REBOOT,
        S.WAITING,
        phase=Phase.AWAIT_REBOOT_APPROVAL,
        approved_by=(),
        approvals_required=timing.approvals_required,
    )
    expiry = StartTimer(TimerKind.APPROVAL_EXPIRY, timing.approval_ttl)
    reminder = StartTimer(TimerKind.APPROVAL_REMINDER, timing.approval_ttl / 2)
    return Decision(nxt, (Ask(DecisionPoint.REBOOT), expiry, reminder))


_CLOSED = {
    Outcome.RESOLVED: Phase.RESOLVED,
    Outcome.ESCALATED: Phase.ESCALATED,
    Outcome.ABANDONED: Phase.ABANDONED,
}


def _close(state: CaseState, outcome: Outcome, reason: str) -> Decision:
    phase = _CLOSED[outcome]
    return Decision(replace(state, phase=phase, outcome=outcome, reason=reason), (Close(outcome),))
