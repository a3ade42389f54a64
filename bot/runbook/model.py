"""Plain data the runbook works on: phases, steps, choices and the case state."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from enum import IntEnum, StrEnum
from typing import Any


class Step(IntEnum):
    CONNECTION_TEST = 1
    DETECTION_QUERY = 2
    PACKET_CAPTURE = 3
    DEBUG_LOGS = 4
    REBOOT = 5


class Phase(StrEnum):
    CONNECTION_TEST = "connection_test"
    DETECTION_QUERY = "detection_query"
    AWAIT_TRAFFIC_DECISION = "await_traffic_decision"  # no detections: quiet or capture?
    RECHECK_WAIT = "recheck_wait"  # quiet: step 2 again later
    PACKET_CAPTURE = "packet_capture"
    AWAIT_FIX = "await_fix"  # capture was empty: fix the mirror, then capture again
    AWAIT_DEBUG_DECISION = "await_debug_decision"
    DEBUG_LOGS = "debug_logs"
    AWAIT_REBOOT_APPROVAL = "await_reboot_approval"
    # The reboot, in explicit phases: approved (the bot sends it, or a person is told to do it),
    # sent (not yet seen down), seen down, back (then step 1 again).
    REBOOTING = "rebooting"  # approved: the bot sends the reboot
    REBOOT_INSTRUCTED = "reboot_instructed"  # approved: a person reboots it on the console
    WAIT_FOR_DOWN = "wait_for_down"  # sent: waiting to see the sensor go down
    WAIT_FOR_BACK = "wait_for_back"  # seen down: waiting for it to answer again
    VERIFY_CONNECTION = "verify_connection"
    AWAIT_RETRY = "await_retry"  # a step could not run (appliance unreachable, ...)
    RESOLVED = "resolved"
    ESCALATED = "escalated"
    ABANDONED = "abandoned"  # the case's thread could not be posted: nothing to show it in

    @property
    def closed(self) -> bool:
        return self in (Phase.RESOLVED, Phase.ESCALATED, Phase.ABANDONED)


class Outcome(StrEnum):
    RESOLVED = "resolved"
    ESCALATED = "escalated"
    ABANDONED = "abandoned"


class DecisionPoint(StrEnum):
    TRAFFIC = "traffic"  # step 2, none found
    FIX = "fix"  # step 3, no packets
    DEBUG = "debug"  # step 4 offered
    REBOOT = "reboot"  # step 5 approval
    RETRY = "retry"  # a step failed to run
    RECHECK = "recheck"  # quiet: waiting for the re-check; run it now, or escalate


class Choice(StrEnum):
    QUIET = "quiet"
    CAPTURE = "capture"
    CAPTURE_AGAIN = "capture_again"
    ESCALATE = "escalate"
    COLLECT = "collect"
    SKIP = "skip"
    APPROVE_REBOOT = "approve_reboot"
    REJECT_REBOOT = "reject_reboot"
    RETRY = "retry"
    RECHECK_NOW = "recheck_now"


CHOICES: dict[DecisionPoint, tuple[Choice, ...]] = {
    DecisionPoint.TRAFFIC: (Choice.QUIET, Choice.CAPTURE),
    DecisionPoint.FIX: (Choice.CAPTURE_AGAIN, Choice.ESCALATE),
    DecisionPoint.DEBUG: (Choice.COLLECT, Choice.SKIP),
    DecisionPoint.REBOOT: (Choice.APPROVE_REBOOT, Choice.REJECT_REBOOT),
    DecisionPoint.RETRY: (Choice.RETRY, Choice.ESCALATE),
    DecisionPoint.RECHECK: (Choice.RECHECK_NOW, Choice.ESCALATE),
}

# What ``ddi-bot demo --yes`` answers: the safe choice that still moves the case forward.
RECOMMENDED: dict[DecisionPoint, Choice] = {
    DecisionPoint.TRAFFIC: Choice.CAPTURE,
    DecisionPoint.FIX: Choice.ESCALATE,
    DecisionPoint.DEBUG: Choice.COLLECT,
    DecisionPoint.REBOOT: Choice.APPROVE_REBOOT,
    DecisionPoint.RETRY: Choice.ESCALATE,
    DecisionPoint.RECHECK: Choice.RECHECK_NOW,
}

AWAITING: dict[Phase, DecisionPoint] = {
    Phase.AWAIT_TRAFFIC_DECISION: DecisionPoint.TRAFFIC,
    Phase.AWAIT_FIX: DecisionPoint.FIX,
    Phase.AWAIT_DEBUG_DECISION: DecisionPoint.DEBUG,
    Phase.AWAIT_REBOOT_APPROVAL: DecisionPoint.REBOOT,
    Phase.AWAIT_RETRY: DecisionPoint.RETRY,
    Phase.RECHECK_WAIT: DecisionPoint.RECHECK,
}

RUNNING: dict[Phase, Step] = {
    Phase.CONNECTION_TEST: Step.CONNECTION_TEST,
    Phase.DETECTION_QUERY: Step.DETECTION_QUERY,
    Phase.PACKET_CAPTURE: Step.PACKET_CAPTURE,
    Phase.DEBUG_LOGS: Step.DEBUG_LOGS,
    Phase.VERIFY_CONNECTION: Step.CONNECTION_TEST,
}

# Waiting for the rebooted sensor, with the timer that polls it.
REBOOT_WAITS = (Phase.WAIT_FOR_DOWN, Phase.WAIT_FOR_BACK)


class StepStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    WAITING = "waiting"  # for a decision
    ON_CONSOLE = "on_console"  # a person does the step on the sensor's console (guided)
    OK = "ok"
    PROBLEM = "problem"  # ran, and found something wrong
    SKIPPED = "skipped"
    FAILED = "failed"  # could not run


@dataclass(frozen=True)
class CaseState:
    """Everything the runbook knows about one case; serialisable to JSON."""

    phase: Phase
    guided: bool = False  # a person performs the steps on the console; else the bot's driver
    steps: dict[int, StepStatus] = field(
        default_factory=lambda: {s.value: StepStatus.PENDING for s in Step}
    )
    connection_verified: bool | None = None
    connection_message: str | None = None  # step 1's exact result, as the vendor asks for it
    verified_after_reboot: bool | None = None
    verify_message: str | None = None  # the connection test after the reboot
    detections: int | None = None
    detections_per_day: float | None = None  # usual for this sensor, from the syslog feed
    capture_packets: int | None = None
    capture_receiving: bool | None = None
    debug_bundle: str | None = None
    debug_sha256: str | None = None
    failed_step: Step | None = None
    failure: str | None = None
    reboot_attempts: int = 0
    reboot_interrupted: bool = False
    reboot_sent_at: float | None = None  # epoch seconds
    wait_deadline: float | None = None  # epoch seconds: give up waiting for the appliance
    rechecks: int = 0
    # who approved the reboot asked now, in order (a quorum may need more than one)
    approved_by: tuple[str, ...] = ()
    approvals_required: int = 1  # as configured when the question was asked
    outcome: Outcome | None = None
    reason: str | None = None  # why the case closed (a message key)

    def person_step(self) -> Step | None:
        """The step a person is doing on the console right now (guided), if any."""
        if self.phase == Phase.REBOOT_INSTRUCTED:
            return Step.REBOOT
        return RUNNING.get(self.phase) if self.guided else None

    def file_step(self) -> Step | None:
        """The step a file posted in the thread now answers: the step a person is doing, or
        a late debug bundle while the reboot's approval is awaited (it changes the evidence
        the approvers decide on)."""
        if self.phase == Phase.AWAIT_REBOOT_APPROVAL:
            return Step.DEBUG_LOGS
        return self.person_step()

    def with_step(self, step: Step, status: StepStatus, **changes: Any) -> CaseState:
        steps = dict(self.steps)
        steps[step.value] = status
        return replace(self, steps=steps, **changes)

    def to_json(self) -> dict[str, Any]:
        # every field is a plain value: no deep copy (``asdict``) needed, and this runs in
        # every unit of work
        data = {name: getattr(self, name) for name in _FIELDS}
        data["steps"] = {str(k): v.value for k, v in self.steps.items()}
        data["approved_by"] = list(self.approved_by)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CaseState:
        values = dict(data)
        values.pop("went_down", None)  # before the reboot's wait became two phases
        values["phase"] = Phase(values["phase"])
        values["steps"] = {int(k): StepStatus(v) for k, v in values["steps"].items()}
        if values.get("failed_step") is not None:
            values["failed_step"] = Step(values["failed_step"])
        values["approved_by"] = tuple(values.get("approved_by") or ())
        if values.get("outcome") is not None:
            values["outcome"] = Outcome(values["outcome"])
        return cls(**values)


_FIELDS = tuple(f.name for f in fields(CaseState))
