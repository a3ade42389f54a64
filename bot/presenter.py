"""Pure functions that turn case facts into messages, for Slack and the terminal alike."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bot import approvals
from bot.errors import (
    AlertCleared,
    AlreadyApproved,
    AlreadyDecided,
    CaseAlreadyOpen,
    DdiBotError,
    EvidenceChanged,
    NotAuthorised,
    UnknownAppliance,
)
from bot.i18n import MESSAGES, t
from bot.runbook import CaseState, Choice, DecisionPoint, Phase, Step
from bot.runbook.evidence import evidence
from bot.runbook.model import AWAITING, CHOICES, RECOMMENDED, RUNNING, StepStatus

STATUS_ICONS = {
    StepStatus.PENDING: "⬜",
    StepStatus.RUNNING: "🔄",
    StepStatus.WAITING: "✋",
    StepStatus.OK: "✅",
    StepStatus.PROBLEM: "⚠️",
    StepStatus.SKIPPED: "⏭️",
    StepStatus.FAILED: "❌",
    StepStatus.ON_CONSOLE: "🧑‍💻",
}
TIME_FORMAT = "%Y-%m-%d %H:%M UTC"


@dataclass(frozen=True)
class Style:
    """How the medium shows outside text and people (Slack's lives in ``handlers``)."""

    escape: Callable[[str], str]
    mention: Callable[[str], str]
    channel: Callable[[str], str] = lambda channel: f"#{channel}"  # a link to a channel


TERMINAL = Style(escape=lambda text: text, mention=lambda user: f"@{user}")


@dataclass(frozen=True)
class CaseView:
    case_id: int
    appliance: str
    requested_by: str
    lang: str
    state: CaseState
    version: int
    recent: int = 1  # the appliance's cases in the 7 days before this one opened, itself too


@dataclass(frozen=True)
class Button:
    """A button on a message that is not a runbook question (a guided step's answers)."""

    action: str  # names the handler: ddi_guide:<action>
    label: str
    value: str
    style: str | None = None


@dataclass(frozen=True)
class Message:
    text: str  # mrkdwn; also the plain fallback
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True)
class Confirm:
    title: str
    text: str
    confirm: str
    deny: str


@dataclass(frozen=True)
class Option:
    choice: Choice
    label: str
    style: str | None  # "primary", "danger" or None
    confirm: Confirm | None
    recommended: bool


@dataclass(frozen=True)
class Prompt:
    case_id: int
    version: int  # the case version that asks: answering a stale question is refused
    point: DecisionPoint
    text: str
    options: tuple[Option, ...]
    evidence: str | None = None  # the reboot's: what its approvers decide on (its digest)


def _step_name(lang: str, which: Step) -> str:
    return t(lang, f"step.{which.value}")


def header(view: CaseView, style: Style, until: datetime | None = None) -> Message:
    """The case's root message: the five steps, what it waits for (and until when), outcome.

    ``until``: when the wait it is in ends (a re-check, an approval's expiry), if known."""
    lang, state = view.lang, view.state
    lines = [
        "*"
        + t(lang, "case.title", case_id=view.case_id, appliance=style.escape(view.appliance))
        + "*",
        t(lang, "case.requested_by", user=style.mention(view.requested_by)),
    ]
    if view.recent > 1:  # a sensor that keeps failing is worth knowing about at once
        lines.append("🔁 " + t(lang, "case.recent", nth=ordinal(lang, view.recent)))
    for which in Step:
        status = state.steps[which.value]
        lines.append(
            f"{STATUS_ICONS[status]} {which.value}. {_step_name(lang, which)} — "
            f"{t(lang, f'status.{status.value}')}"
        )
    waiting = waiting_line(view, style, until)
    if waiting:
        lines.append(f"⏳ {waiting}")
    lines.append(outcome_line(view))
    return Message("\n".join(lines))


def ordinal(lang: str, n: int) -> str:
    if lang == "ja":
        return str(n)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def waiting_line(view: CaseView, style: Style, until: datetime | None = None) -> str | None:
    """What the case waits for, who must act, and until when; None once it is closed."""
    lang, state = view.lang, view.state
    phase = state.phase
    if phase.closed:
        return None
    if state.wait_deadline is not None and until is None:
        until = datetime.fromtimestamp(state.wait_deadline, UTC)
    shown = until.strftime(TIME_FORMAT) if until is not None else "?"
    person = state.person_step()
    if person is not None:
        return t(lang, f"wait.person.{person.value}", user=style.mention(view.requested_by))
    point = AWAITING.get(phase)
    if point == DecisionPoint.REBOOT:
        return t(lang, "wait.approver", until=shown)
    if point == DecisionPoint.RECHECK:
        return t(lang, "wait.recheck", until=shown)
    if point is not None:
        return t(lang, "wait.decision")
    if phase in RUNNING:
        which = RUNNING[phase]
        return t(lang, "wait.running", step=which.value, name=_step_name(lang, which))
    if phase == Phase.REBOOTING:
        return t(lang, "wait.rebooting")
    if phase == Phase.WAIT_FOR_DOWN:
        return t(lang, "wait.down", until=shown)
    if phase == Phase.WAIT_FOR_BACK:
        return t(lang, "wait.back", until=shown)
    return None


def outcome_line(view: CaseView) -> str:
    lang, state = view.lang, view.state
    if state.outcome is None:
        return t(lang, "case.open")
    reason = t(lang, f"reason.{state.reason}") if state.reason else ""
    return t(lang, "result.closed", outcome=t(lang, f"case.{state.outcome.value}"), reason=reason)


def connection_result(
    lang: str, verified: bool, message: str, after_reboot: bool, style: Style
) -> Message:
    prefix = "result.verify" if after_reboot else "result.connection"
    key = f"{prefix}.verified" if verified else f"{prefix}.failed"
    return Message(t(lang, key, message=style.escape(message)))


def detections_result(lang: str, count: int, start: datetime, end: datetime) -> Message:
    key = "result.detections.found" if count > 0 else "result.detections.none"
    fmt = TIME_FORMAT
    return Message(t(lang, key, count=count, start=start.strftime(fmt), end=end.strftime(fmt)))


def debug_result(lang: str, filename: str, size: int, sha256: str, style: Style) -> Message:
    return Message(
        t(lang, "result.debug.collected", filename=style.escape(filename), size=size, sha256=sha256)
    )


def error_text(lang: str, code: str) -> str:
    key = f"error.code.{code}"
    return t(lang, key if key in MESSAGES else "error.code.driver_error")


def step_failed(lang: str, which: Step, code: str, detail: str | None = None) -> Message:
    """A step that could not run; ``detail`` (already escaped) says exactly why, if known."""
    error = error_text(lang, code) + (f" (`{detail}`)" if detail else "")
    if which == Step.REBOOT:
        return Message(t(lang, "result.reboot.failed", error=error))
    name = _step_name(lang, which)
    return Message(t(lang, "result.step_failed", step=which.value, name=name, error=error))


def closed(view: CaseView) -> Message:
    return Message(outcome_line(view))


def prompt(view: CaseView, point: DecisionPoint, style: Style) -> Prompt:
    lang, state = view.lang, view.state
    appliance = style.escape(view.appliance)
    if point == DecisionPoint.REBOOT:
        text = t(lang, "prompt.reboot", appliance=appliance)
        if state.reboot_interrupted:
            text = t(lang, "prompt.reboot.interrupted") + "\n" + text
        text += "\n" + approvals.summary(lang, state, style.escape, style.mention)
    elif point == DecisionPoint.RETRY:
        failed = state.failed_step or Step.CONNECTION_TEST
        text = t(
            lang,
            "prompt.retry",
            step=failed.value,
            name=_step_name(lang, failed),
            error=error_text(lang, state.failure or "driver_error"),
        )
    else:
        text = t(lang, f"prompt.{point.value}")
    if point == DecisionPoint.TRAFFIC and state.detections_per_day is not None:
        text += "\n" + t(lang, "prompt.traffic.usual", per_day=f"{state.detections_per_day:.1f}")
    options = tuple(_option(lang, point, choice, appliance) for choice in CHOICES[point])
    digest = evidence(state) if point == DecisionPoint.REBOOT else None
    return Prompt(view.case_id, view.version, point, text, options, digest)


def _option(lang: str, point: DecisionPoint, choice: Choice, appliance: str) -> Option:
    confirm = None
    style: str | None = "primary" if RECOMMENDED[point] == choice else None
    if choice == Choice.APPROVE_REBOOT:
        style = "danger"
        confirm = Confirm(
            title=t(lang, "confirm.reboot.title", appliance=appliance),
            text=t(lang, "confirm.reboot.text"),
            confirm=t(lang, "confirm.reboot.yes"),
            deny=t(lang, "confirm.reboot.no"),
        )
    return Option(
        choice=choice,
        label=t(lang, f"choice.{choice.value}"),
        style=style,
        confirm=confirm,
        recommended=RECOMMENDED[point] == choice,
    )


def decided(
    view: CaseView, point: DecisionPoint, choice: Choice, user: str, when: datetime, style: Style
) -> Message:
    question = prompt(view, point, style).text
    return Message(
        t(
            view.lang,
            "prompt.decided",
            question=question,
            choice=t(view.lang, f"choice.{choice.value}"),
            user=style.mention(user),
            when=when.strftime("%Y-%m-%d %H:%M:%S UTC"),
        )
    )


def error_message(lang: str, exc: Exception, style: Style, link: str | None = None) -> str:
    """The one place where an error becomes the text a person reads."""
    if isinstance(exc, UnknownAppliance):
        text = t(lang, exc.key, name=style.escape(exc.params["name"]))
        names = exc.params.get("suggestions") or []
        if names:
            listed = ", ".join(f"`{style.escape(n)}`" for n in names)
            return text + " " + t(lang, "error.unknown_appliance.suggest", names=listed)
        return text + " " + t(lang, "error.unknown_appliance.none")
    if isinstance(exc, CaseAlreadyOpen):
        return t(
            lang,
            exc.key,
            appliance=style.escape(exc.params["appliance"]),
            case_id=exc.params["case_id"],
            link=link or "",
        ).rstrip(": ")
    if isinstance(exc, AlreadyApproved):
        return t(lang, exc.key, missing=int(exc.params.get("missing") or 1))
    if isinstance(exc, EvidenceChanged):
        return t(lang, exc.key, digest=style.escape(str(exc.params.get("digest") or "?")))
    if isinstance(exc, AlreadyDecided):
        if exc.params.get("stale"):
            return t(lang, "error.stale_prompt")
        return t(
            lang,
            exc.key,
            choice=t(lang, f"choice.{exc.params['choice']}"),
            user=style.mention(exc.params["user"]),
        )
    if isinstance(exc, NotAuthorised):
        approvers = exc.params.get("approvers") or []
        who = ", ".join(style.mention(a) for a in approvers) or t(lang, "error.no_approver")
        return t(lang, exc.key, who=who)
    if isinstance(exc, AlertCleared):
        appliance = style.escape(str(exc.params.get("appliance") or "?"))
        return t(lang, exc.key, at=exc.params.get("at") or "?", appliance=appliance)
    if isinstance(exc, DdiBotError):
        return t(lang, exc.key, detail=style.escape(exc.detail))
    return t(lang, "error.internal")
