"""What people are shown when a case changes: pure, from the views before and after, the
observation, the effects and the note. ``apply`` queues the result in the same transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.engine.note import Note
from bot.engine.outgoing import Kind, Outgoing, post
from bot.i18n import t
from bot.messenger import Attachment
from bot.presenter import (
    TIME_FORMAT,
    CaseView,
    Message,
    Style,
    closed,
    decided,
    header,
    prompt,
)
from bot.report import ReportFacts, vendor_report
from bot.runbook import DecisionPoint, Outcome
from bot.runbook.messages import (
    Ask,
    CarryTimers,
    Close,
    Decided,
    Effect,
    Observation,
    RebootSent,
    Remind,
    StartTimer,
    ThreadFailed,
    TimerKind,
)
from bot.runbook.model import AWAITING
from bot.watch.alert import Alert
from bot.watch.text import before_reboot


def prompt_key(view: CaseView) -> str:
    """The question asked at a case version is queued once."""
    return f"prompt:{view.case_id}:{view.version}"


def opening(view: CaseView, style: Style) -> list[Outgoing]:
    """A new case: its root message, where its thread starts."""
    return [Outgoing(Kind.ROOT, header(view, style))]


def narrate(
    before: CaseView,
    after: CaseView,
    obs: Observation,
    effects: tuple[Effect, ...],
    note: Note,
    *,
    now: datetime,
    style: Style,
    facts: ReportFacts | None = None,
    reboots: int = 0,
    files: tuple[Attachment, ...] = (),
    approvers: tuple[str, ...] = (),
    expires: datetime | None = None,
    fleet: Alert | None = None,
) -> list[Outgoing]:
    """``approvers``: whom a reminder names; ``expires``: when the question a reminder recalls,
    or one asked again with its timers carried, expires; ``fleet``: the open fleet alert that
    covers the appliance (a reboot question then says the cause is not the sensor)."""
    out: list[Outgoing] = []
    lang = after.lang
    reminders = [e for e in effects if isinstance(e, Remind)]
    if reminders and len(reminders) == len(effects):  # nothing changed: no new root message
        who = " ".join(style.mention(a) for a in approvers) or t(lang, "error.no_approver")
        deadline = expires.strftime(TIME_FORMAT) if expires is not None else "?"
        appliance = style.escape(after.appliance)
        return [post(Message(t(lang, "reminder.approval", appliance=appliance, until=deadline,
                               who=who)))]  # fmt: skip
    if note.message is not None:
        out.append(post(_signed(note, lang, style)))
    out.extend(Outgoing(Kind.ATTACH, attachment=a) for a in note.attachments)
    if isinstance(obs, RebootSent) and note.actor:
        out.append(post(Message(t(lang, "guide.rebooted.by", user=style.mention(note.actor)))))
    point = AWAITING.get(before.state.phase)
    if isinstance(obs, Decided) and point is not None:
        shown = decided(before, point, obs.choice, obs.user, now, style)
        waits = after.state
        if waits.phase == before.state.phase and obs.user in waits.approved_by:  # not enough yet
            more = t(lang, "approval.partial", count=len(waits.approved_by),
                     required=waits.approvals_required)  # fmt: skip
            shown = Message(f"{shown.text}\n{more}")
        if note.clicked:
            out.append(Outgoing(Kind.UPDATE, shown, target_ts=note.clicked))
        elif note.shown not in (None, before.version):  # its question is not out yet
            out.append(post(shown))
    # a question asked again to show who approved keeps its deadline
    until = expires if any(isinstance(e, CarryTimers) for e in effects) else None
    tail: list[Outgoing] = []
    for effect in effects:
        match effect:
            case StartTimer(kind=TimerKind.RECHECK, delay=delay):
                until = now + timedelta(seconds=delay)
                text = t(lang, "result.recheck.scheduled", when=until.strftime(TIME_FORMAT))
                tail.append(post(Message(text)))
            case StartTimer(kind=TimerKind.APPROVAL_EXPIRY, delay=delay):
                until = now + timedelta(seconds=delay)
            case Ask(point=asked):
                if asked == DecisionPoint.REBOOT and fleet is not None:
                    tail.append(post(Message(before_reboot(lang, fleet, style))))
                tail.append(post(prompt(after, asked, style), key=prompt_key(after)))
            case Close(outcome=Outcome.ABANDONED):
                code = obs.code if isinstance(obs, ThreadFailed) else "?"
                text = t(lang, "error.slack_post_failed", detail=style.escape(code))
                return [Outgoing(Kind.REPLY, text=text)]
            case Close(outcome=outcome):
                if outcome == Outcome.ESCALATED:
                    tail.append(post(vendor_report(after, style, reboots, facts)))
                tail.extend(Outgoing(Kind.ATTACH, attachment=file) for file in files)
                tail.append(post(closed(after)))
    out.append(Outgoing(Kind.HEADER, header(after, style, until)))
    return out + tail


def _signed(note: Note, lang: str, style: Style) -> Message:
    """A person's answer to a guided step says who gave it."""
    message = note.message
    assert message is not None
    if note.answer is None or note.actor is None or note.answer == "rebooted":
        return message
    by = t(lang, "guide.answered_by", user=style.mention(note.actor))
    return Message(f"{message.text}\n{by}", message.buttons)
