"""``/ddi-check status <appliance>``: the sensor's health now, as text. Pure: the engine
gathers the facts (``bot.engine.status``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.i18n import t
from bot.listing import OpenEntry, PastCase, duration, outcome_and_reason
from bot.presenter import TIME_FORMAT, Style, waiting_line
from bot.probes import ProbeReport, render_report

SILENT_AFTER = timedelta(minutes=120)  # a feed that carried detections is silent this long after


@dataclass(frozen=True)
class FeedHealth:
    last_seen: datetime | None  # the latest syslog detection from the sensor
    last_day: int  # detections in the 24 hours before ``at``
    per_day: float | None  # its usual, when the feed has a day of history


@dataclass(frozen=True)
class ApplianceStatus:
    appliance: str
    site: str | None
    at: datetime  # when this was looked at
    probes: ProbeReport | None  # None: the inventory gives nothing to probe
    feed: FeedHealth | None  # None: the sensor has no syslog ids
    open_case: OpenEntry | None
    last_case: PastCase | None
    cases_week: int  # cases opened for it in the last 7 days
    silence: timedelta = SILENT_AFTER  # a feed without detections this long is silent


def silent_for(
    last_seen: datetime | None, at: datetime, after: timedelta = SILENT_AFTER
) -> timedelta | None:
    """How long a feed that carried detections (the latest at ``last_seen``) has been silent,
    once that is ``after`` or longer; None when it is not silent (or never carried any)."""
    if last_seen is None:
        return None
    quiet = at - last_seen
    return quiet if quiet >= after else None


def status_text(lang: str, status: ApplianceStatus, style: Style) -> str:
    name = style.escape(status.appliance)
    lines = [t(lang, "status.title", appliance=name, at=status.at.strftime(TIME_FORMAT))]
    if status.site:
        lines.append(t(lang, "status.site", site=style.escape(status.site)))
    if status.probes is None:
        lines.append(t(lang, "status.probes.none"))
    else:
        lines.extend(render_report(lang, status.probes, style))
    lines.append(_feed_line(lang, status))
    if status.open_case is not None:
        entry = status.open_case
        waiting = waiting_line(entry.view, style, entry.until) or ""
        lines.append(t(lang, "status.open", case_id=entry.view.case_id, waiting=waiting))
    else:
        lines.append(t(lang, "status.no_open"))
    last = status.last_case
    if last is not None:
        outcome, _reason = outcome_and_reason(lang, last)
        when = (last.closed_at or last.opened_at).strftime(TIME_FORMAT)
        lines.append(t(lang, "status.last", case_id=last.case_id, outcome=outcome, when=when))
    if status.cases_week > 1:
        lines.append(t(lang, "status.week", count=status.cases_week))
    return "\n".join(lines)


def _feed_line(lang: str, status: ApplianceStatus) -> str:
    feed = status.feed
    if feed is None:
        return t(lang, "status.feed.none")
    if feed.last_seen is None:
        return t(lang, "status.feed.never")
    usual = (
        t(lang, "status.feed.usual", per_day=f"{feed.per_day:.1f}")
        if feed.per_day is not None
        else ""
    )
    last = feed.last_seen.strftime(TIME_FORMAT)
    quiet = silent_for(feed.last_seen, status.at, status.silence)
    if quiet is not None:
        return t(lang, "status.feed.silent", last=last, quiet=duration(lang, quiet), usual=usual)
    return t(lang, "status.feed.ok", last=last, count=feed.last_day, usual=usual)
