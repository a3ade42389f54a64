"""Observations the runbook consumes and effects it asks the engine to carry out (plain data)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.runbook.model import Choice, DecisionPoint, Outcome, Step

# --- observations: what happened -------------------------------------------------------------


@dataclass(frozen=True)
class ConnectionTested:
    verified: bool
    message: str


@dataclass(frozen=True)
class DetectionsCounted:
    count: int
    per_day: float | None = None  # how many this sensor usually has (syslog history), if known


@dataclass(frozen=True)
class CaptureAnalysed:
    packets: int
    receiving: bool


@dataclass(frozen=True)
class DebugLogsCollected:
    filename: str
    sha256: str


@dataclass(frozen=True)
class StepFailed:
    step: Step
    code: str  # stable error code from the driver (unreachable, timeout, tls, ...)


@dataclass(frozen=True)
class Decided:
    choice: Choice
    user: str


@dataclass(frozen=True)
class RebootSent:
    """The bot sent the reboot, or the person told to do it says it is done."""

    at: float  # epoch seconds


@dataclass(frozen=True)
class RebootInterrupted:
    """On restart: a reboot was recorded but its outcome is unknown. Never retried blindly."""


class TimerKind(StrEnum):
    RECHECK = "recheck"
    POLL_APPLIANCE = "poll_appliance"
    APPROVAL_EXPIRY = "approval_expiry"
    APPROVAL_REMINDER = "approval_reminder"  # half of the approval's time is gone


@dataclass(frozen=True)
class TimerFired:
    kind: TimerKind


@dataclass(frozen=True)
class ApplianceProbed:
    up: bool
    at: float  # epoch seconds


@dataclass(frozen=True)
class ThreadFailed:
    """The case's root message could not be posted (the channel refuses the bot)."""

    code: str


Observation = (
    ConnectionTested
    | DetectionsCounted
    | CaptureAnalysed
    | DebugLogsCollected
    | StepFailed
    | Decided
    | RebootSent
    | RebootInterrupted
    | TimerFired
    | ApplianceProbed
    | ThreadFailed
)

# --- effects: what the engine must do next ---------------------------------------------------


@dataclass(frozen=True)
class RunStep:
    """The bot runs the step through the appliance's driver."""

    step: Step


@dataclass(frozen=True)
class Instruct:
    """A person does the step: post the console instructions, then wait for their answer."""

    step: Step


@dataclass(frozen=True)
class CheckNetwork:
    """The bot's own probes of the console and the portal servers (once, as a case opens)."""


@dataclass(frozen=True)
class Ask:
    point: DecisionPoint


@dataclass(frozen=True)
class Remind:
    """Remind the people who must answer the question still asked. Nothing else changes: the
    question, and so the case's version its buttons carry, stay as they are."""

    point: DecisionPoint


@dataclass(frozen=True)
class CarryTimers:
    """The question is asked again only to show who approved so far: its expiry and reminder
    carry on as they were (they do not start over), at the case's new version."""


@dataclass(frozen=True)
class StartTimer:
    kind: TimerKind
    delay: float  # seconds


@dataclass(frozen=True)
class ProbeAppliance:
    pass


@dataclass(frozen=True)
class Close:
    outcome: Outcome


Effect = (
    RunStep
    | Instruct
    | CheckNetwork
    | Ask
    | Remind
    | CarryTimers
    | StartTimer
    | ProbeAppliance
    | Close
)
