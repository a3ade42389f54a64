"""``/ddi-check list`` and ``/ddi-check history <appliance>``: the open cases, what each waits
for and who must act; an appliance's past cases with their outcome and duration. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.i18n import t
from bot.presenter import TIME_FORMAT, CaseView, Style, waiting_line
from bot.runbook.messages import TimerKind

# the timers whose due time is the deadline of what an open case waits for
DEADLINES = frozenset({TimerKind.APPROVAL_EXPIRY.value, TimerKind.RECHECK.value})


@dataclass(frozen=True)
class OpenEntry:
    view: CaseView
    opened_at: datetime
    until: datetime | None  # the deadline of what it waits for (approval expiry, re-check)


@dataclass(frozen=True)
class PastCase:
    case_id: int
    opened_at: datetime
    closed_at: datetime | None
    outcome: str | None
    reason: str | None


class PendingTimer(Protocol):
    case_id: int
    case_version: int
    kind: str
    due_at: datetime


def deadlines(pending: Sequence[PendingTimer], versions: Mapping[int, int]) -> dict[int, datetime]:
    """Case id -> the deadline of what it waits for at its version (``versions``)."""
    until: dict[int, datetime] = {}
    for timer in pending:
        if timer.kind in DEADLINES and timer.case_version == versions.get(timer.case_id):
            until[timer.case_id] = timer.due_at
    return until


def open_case_line(lang: str, entry: OpenEntry, style: Style) -> str:
    """One open case: what it waits for, who must act, until when, and since when."""
    view = entry.view
    return t(
        lang,
        "list.entry",
        case_id=view.case_id,
        appliance=style.escape(view.appliance),
        waiting=waiting_line(view, style, entry.until) or "",
        since=entry.opened_at.strftime(TIME_FORMAT),
    )


def open_cases_text(lang: str, entries: Sequence[OpenEntry], style: Style) -> str:
    if not entries:
        return t(lang, "list.none")
    lines = [t(lang, "list.title", count=len(entries))]
    ordered = sorted(entries, key=lambda e: e.view.case_id)
    lines += [open_case_line(lang, entry, style) for entry in ordered]
    return "\n".join(lines)


def outcome_and_reason(lang: str, case: PastCase) -> tuple[str, str]:
    """How a closed case ended, and why, as people read it."""
    outcome = t(lang, f"case.{case.outcome}") if case.outcome else "?"
    reason = t(lang, f"reason.{case.reason}") if case.reason else "—"
    return outcome, reason


def duration(lang: str, span: timedelta) -> str:
    minutes = max(0, round(span.total_seconds() / 60))
    if minutes < 120:
        return t(lang, "history.minutes", minutes=minutes)
    return t(lang, "history.hours", hours=round(minutes / 60, 1))


def history_text(lang: str, appliance: str, cases: Sequence[PastCase], style: Style) -> str:
    name = style.escape(appliance)
    if not cases:
        return t(lang, "history.none", appliance=name)
    lines = [t(lang, "history.title", appliance=name, count=len(cases))]
    for case in cases:
        outcome, reason = outcome_and_reason(lang, case)
        took = duration(lang, case.closed_at - case.opened_at) if case.closed_at else "?"
        lines.append(
            t(
                lang,
                "history.entry",
                case_id=case.case_id,
                opened=case.opened_at.strftime(TIME_FORMAT),
                outcome=outcome,
                reason=reason,
                took=took,
            )
        )
    return "\n".join(lines)
