"""Plain data the runbook works on: phases, steps, choices and the case state."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
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
    REBOOTING = "rebooting"
    WAIT_FOR_APPLIANCE = "wait_for_appliance"
    VERIFY_CONNECTION = "verify_connection"
    AWAIT_RETRY = "await_retry"  # a step could not run (appliance unreachable, ...)
    RESOLVED = "resolved"
    ESCALATED = "escalated"

    @property
    def closed(self) -> bool:
        return self in (Phase.RESOLVED, Phase.ESCALATED)


class Outcome(StrEnum):
    RESOLVED = "resolved"
    ESCALATED = "escalated"


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


class StepStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    WAITING = "waiting"  # for a person
    OK = "ok"
    PROBLEM = "problem"  # ran, and found something wrong
    SKIPPED = "skipped"
    FAILED = "failed"  # could not run


@dataclass(frozen=True)
class CaseState:
    """Everything the runbook knows about one case; serialisable to JSON."""

    phase: Phase
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
    went_down: bool = False  # seen not answering since the reboot was sent
    wait_deadline: float | None = None  # epoch seconds: give up waiting for the appliance
    rechecks: int = 0
    outcome: Outcome | None = None
    reason: str | None = None  # why the case closed (a message key)

    def with_step(self, step: Step, status: StepStatus, **changes: Any) -> CaseState:
        steps = dict(self.steps)
        steps[step.value] = status
        return replace(self, steps=steps, **changes)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["steps"] = {str(k): v.value for k, v in self.steps.items()}
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CaseState:
        values = dict(data)
        values["phase"] = Phase(values["phase"])
        values["steps"] = {int(k): StepStatus(v) for k, v in values["steps"].items()}
        if values.get("failed_step") is not None:
            values["failed_step"] = Step(values["failed_step"])
        if values.get("outcome") is not None:
            values["outcome"] = Outcome(values["outcome"])
        return cls(**values)
