"""The App Home tab: open cases with who must act and since when, open alerts, every
appliance's health (last detection, the bot's last probes, open alert and case), recent
cases. Pure: text sections, which ``handlers.home`` turns into a Home tab view."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.i18n import t
from bot.listing import OpenEntry, PastCase, open_case_line, outcome_and_reason
from bot.presenter import TIME_FORMAT, Style
from bot.status import SILENT_AFTER, silent_for
from bot.watch.alert import Alert
from bot.watch.findings import Condition
from bot.watch.text import alert_line

MAX_APPLIANCES = 60  # lines of the health section; the most worrying come first


@dataclass(frozen=True)
class ApplianceHealth:
    appliance: str
    last_detection: datetime | None  # None: no feed, or nothing arrived yet
    has_feed: bool  # the inventory gives it syslog ids
    probes_ok: bool | None  # the bot's latest probes (of its latest case); None: never probed
    probed_at: datetime | None
    open_case: int | None
    alerts: tuple[Condition, ...] = ()  # its own open alerts (the fleet watch's)


@dataclass(frozen=True)
class HomeFacts:
    at: datetime
    open_cases: Sequence[OpenEntry]
    appliances: Sequence[ApplianceHealth]
    recent: Sequence[tuple[str, PastCase]]  # (appliance, closed case), the newest first
    alerts: Sequence[Alert] = ()  # open alerts, the oldest first
    silence: timedelta = SILENT_AFTER  # a feed without detections this long is silent


@dataclass(frozen=True)
class Section:
    title: str  # plain text
    text: str  # mrkdwn


def home_sections(lang: str, facts: HomeFacts, style: Style) -> list[Section]:
    return [
        Section(t(lang, "home.open.title", count=len(facts.open_cases)), _open(lang, facts, style)),
        Section(t(lang, "home.alerts.title", count=len(facts.alerts)), _alerts(lang, facts, style)),
        Section(
            t(lang, "home.health.title", count=len(facts.appliances)),
            _health(lang, facts, style),
        ),
        Section(t(lang, "home.recent.title"), _recent(lang, facts, style)),
        Section("", t(lang, "home.updated", at=facts.at.strftime(TIME_FORMAT))),
    ]


def _open(lang: str, facts: HomeFacts, style: Style) -> str:
    if not facts.open_cases:
        return t(lang, "list.none")
    ordered = sorted(facts.open_cases, key=lambda e: e.opened_at)
    return "\n".join(open_case_line(lang, entry, style) for entry in ordered)


def _alerts(lang: str, facts: HomeFacts, style: Style) -> str:
    if not facts.alerts:
        return t(lang, "alert.none")
    return "\n".join(f"• {alert_line(lang, a, style, facts.at)}" for a in facts.alerts)


def _silent(health: ApplianceHealth, facts: HomeFacts) -> bool:
    return silent_for(health.last_detection, facts.at, facts.silence) is not None


def _worry(health: ApplianceHealth, facts: HomeFacts) -> tuple[int, str]:
    """Sort key: an open case, then a silent feed or failed probes, then the rest."""
    if health.open_case is not None:
        rank = 0
    elif health.alerts or _silent(health, facts) or health.probes_ok is False:
        rank = 1
    else:
        rank = 2
    return rank, health.appliance


def _health(lang: str, facts: HomeFacts, style: Style) -> str:
    if not facts.appliances:
        return t(lang, "home.health.none")
    ordered = sorted(facts.appliances, key=lambda h: _worry(h, facts))
    lines = [_health_line(lang, h, facts, style) for h in ordered[:MAX_APPLIANCES]]
    if len(ordered) > MAX_APPLIANCES:
        lines.append(t(lang, "home.health.more", count=len(ordered) - MAX_APPLIANCES))
    return "\n".join(lines)


def _health_line(lang: str, health: ApplianceHealth, facts: HomeFacts, style: Style) -> str:
    parts = []
    if not health.has_feed:
        parts.append(t(lang, "home.feed.none"))
    elif health.last_detection is None:
        parts.append(t(lang, "home.feed.never"))
    else:
        key = "home.feed.silent" if _silent(health, facts) else "home.feed.last"
        parts.append(t(lang, key, last=health.last_detection.strftime(TIME_FORMAT)))
    if health.probes_ok is not None and health.probed_at is not None:
        key = "home.probes.ok" if health.probes_ok else "home.probes.failed"
        parts.append(t(lang, key, at=health.probed_at.strftime(TIME_FORMAT)))
    if health.alerts:
        what = ", ".join(t(lang, f"home.alert.{c.value}") for c in health.alerts)
        parts.append(t(lang, "home.alert", what=what))
    if health.open_case is not None:
        parts.append(t(lang, "home.case", case_id=health.open_case))
    icon = "🟢"
    worrying = health.alerts or health.probes_ok is False or _silent(health, facts)
    if health.open_case is not None or worrying:
        icon = "🔴" if health.open_case is not None else "🟠"
    return f"{icon} `{style.escape(health.appliance)}` — " + "; ".join(parts)


def _recent(lang: str, facts: HomeFacts, style: Style) -> str:
    if not facts.recent:
        return t(lang, "home.recent.none")
    lines = []
    for appliance, case in facts.recent:
        outcome, reason = outcome_and_reason(lang, case)
        when = (case.closed_at or case.opened_at).strftime(TIME_FORMAT)
        lines.append(
            t(
                lang,
                "home.recent.entry",
                case_id=case.case_id,
                appliance=style.escape(appliance),
                outcome=outcome,
                reason=reason,
                when=when,
            )
        )
    return "\n".join(lines)
