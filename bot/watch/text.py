"""The text of alerts, of the note a fleet alert leaves in open cases, and of the alert lines
of ``/ddi-check list``. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.i18n import t
from bot.listing import duration
from bot.presenter import TIME_FORMAT, Button, Message, Style
from bot.watch.alert import OPEN_CASE, Alert, Closed
from bot.watch.findings import Condition

MAX_NAMED = 10  # appliances a fleet alert names; the rest are counted


def _names(alert: Alert, style: Style) -> str:
    named = ", ".join(f"`{style.escape(name)}`" for name in alert.members[:MAX_NAMED])
    more = len(alert.members) - MAX_NAMED
    return named + (f" (+{more})" if more > 0 else "")


def _subject(lang: str, alert: Alert, style: Style) -> str:
    """What is wrong, in one line (bold in Slack)."""
    params = {
        "appliance": style.escape(alert.appliance),
        "target": style.escape(alert.target),
        "count": len(alert.members),
    }
    kind = "fleet" if alert.fleet else "own"
    return t(lang, f"alert.{kind}.{alert.condition.value}", **params)


def _facts(lang: str, alert: Alert, style: Style) -> str:
    since = alert.opened_at.strftime(TIME_FORMAT)
    if alert.condition == Condition.SILENT:
        last = alert.since.strftime(TIME_FORMAT) if alert.since else "?"
        usual = (
            t(lang, "status.feed.usual", per_day=f"{alert.per_day:.1f}")
            if alert.per_day is not None
            else ""
        )
        facts = t(lang, "alert.facts.silent", last=last, usual=usual, since=since)
    else:
        detail = style.escape(alert.detail) or "?"
        facts = t(lang, "alert.facts.probe", detail=detail, since=since)
    if alert.fleet:
        facts += "\n" + t(lang, "alert.fleet.members", names=_names(alert, style))
        facts += "\n" + t(lang, f"alert.fleet.cause.{alert.condition.value}")
    return facts


def alert_message(lang: str, alert: Alert, style: Style) -> Message:
    """The alert's message as it is now: open (an appliance's own, with its Open-a-case
    button), with a case opened from it, or recovered."""
    lines = [_subject(lang, alert, style), _facts(lang, alert, style)]
    if alert.case_id is not None:
        who = style.mention(alert.case_by) if alert.case_by else "?"
        lines.append(t(lang, "alert.case", case_id=alert.case_id, user=who))
    if alert.cleared_at is not None:
        took = duration(lang, alert.cleared_at - alert.opened_at)
        at = alert.cleared_at.strftime(TIME_FORMAT)
        why = alert.closed or Closed.RECOVERED
        where = style.channel(alert.fleet_channel) if alert.fleet_channel else "?"
        lines.insert(0, t(lang, f"alert.closed.{why.value}", took=took, at=at, channel=where))
        return Message("\n".join(lines))
    buttons: tuple[Button, ...] = ()
    if not alert.fleet and alert.case_id is None:
        label = t(lang, "alert.open_case")
        buttons = (Button(OPEN_CASE, label, str(alert.alert_id), "primary"),)
    return Message("\n".join(lines), buttons)


def fleet_note(lang: str, alert: Alert, channel: str, style: Style) -> str:
    """Posted in the thread of a case open on one of a fleet alert's appliances."""
    subject = _subject(lang, alert, style)
    return t(lang, "alert.note", subject=subject, channel=channel)


def before_reboot(lang: str, alert: Alert, style: Style) -> str:
    """Said above a reboot question while a fleet alert covers the sensor."""
    return t(lang, "alert.before_reboot", subject=_subject(lang, alert, style))


def alert_line(lang: str, alert: Alert, style: Style, at: datetime) -> str:
    """One open alert, for ``/ddi-check list`` and the App Home."""
    took = duration(lang, at - alert.opened_at)
    return t(lang, "alert.line", subject=_subject(lang, alert, style), took=took)


def alerts_text(lang: str, alerts: Sequence[Alert], style: Style, at: datetime) -> str:
    """The open alerts, the oldest first, for ``/ddi-check list``."""
    if not alerts:
        return t(lang, "alert.none")
    lines = [t(lang, "alert.title", count=len(alerts))]
    lines.extend(f"• {alert_line(lang, alert, style, at)}" for alert in alerts)
    return "\n".join(lines)
