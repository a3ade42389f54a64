"""The fleet watch's sweep: every appliance checked with what the bot sees by itself (its
console, its portal servers, its syslog feed), then the alerts raised, regrouped and cleared
as ``bot.watch.correlate`` plans them, with their messages, in one transaction.

Probes run concurrently, at most ``watch_concurrency`` at once; a portal server that many
sensors share is probed once. Sweeps may overlap across replicas (PostgreSQL runs each once,
as a periodic job; a sweep cut short is simply the next one's to do): an alert's open key is
unique, so an alert is raised once whoever raises it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot import metrics
from bot.engine.alert_rows import alert_of
from bot.engine.checks import tmsp_targets
from bot.engine.context import Context
from bot.engine.feed import usual_per_day
from bot.engine.outbox import redacted, say
from bot.engine.outgoing import Kind
from bot.inventory import Appliance
from bot.messenger import to_body
from bot.presenter import Message
from bot.probes import ConsoleReport, ProbeResult, ServerReport, probe_console, probe_server
from bot.status import silent_for
from bot.watch.alert import Alert, Closed
from bot.watch.correlate import FleetAlert, OpenAlert, Plan, plan
from bot.watch.findings import FLEET, Condition, Finding, key_of
from bot.watch.text import alert_message, fleet_note
from storage import alerts, cases, outbox, syslog_counts, syslog_receivers
from storage.models import AlertRow

log = logging.getLogger(__name__)
T = TypeVar("T")
# TLS handshakes (and certificate checks) of a sweep at once: they run in the event loop's
# thread, and 64 together delay everything else it does (a Slack request's answer) by 50 ms
# and more; a handshake that stalls holds its slot for the whole timeout, so too few would
# let 500 stalled consoles outlast the sweep's period (500 / 24 x 10 s = 210 s)
HANDSHAKES = 24


@dataclass(frozen=True)
class SweepReport:
    at: datetime
    appliances: int  # appliances checked
    findings: tuple[Finding, ...]
    raised: tuple[Alert, ...]  # appliances' own alerts raised by this sweep
    fleet: tuple[Alert, ...]  # fleet alerts raised by this sweep
    cleared: int
    seconds: float  # how long the sweep took


def _failure(probes: Sequence[ProbeResult]) -> str:
    failed = next((p for p in probes if not p.ok), None)
    if failed is None:
        return "?"
    return f"{failed.kind.value}: {failed.failure.value if failed.failure else 'failed'}"


def console_detail(report: ConsoleReport) -> str:
    if report.pin_mismatch:
        return "tls: certificate pin mismatch"
    return _failure(report.probes)


async def _bounded(limit: asyncio.Semaphore, work: Awaitable[T]) -> T:
    async with limit:
        return await work


def _console(
    appliance: Appliance, timeout: float, tls: asyncio.Semaphore
) -> Awaitable[ConsoleReport]:
    return probe_console(
        str(appliance.console),
        pin=appliance.tls_fingerprint,
        ca_file=appliance.tls_ca_file,
        timeout=timeout,
        handshakes=tls,
    )


@dataclass
class Blind:
    """What a sweep could not judge: its open alerts stay as they are."""

    consoles: set[str] = field(default_factory=set)  # appliances whose probe could not run
    servers: set[str] = field(default_factory=set)  # portal servers whose probe could not run
    silence: bool = False  # no receiver listened through the silence limit

    def keeps(self, rows: Mapping[str, AlertRow]) -> frozenset[str]:
        """The keys of the open alerts this sweep says nothing about."""
        kept = set()
        for key, row in rows.items():
            condition = Condition(row.condition)
            members = set(row.detail.get("members") or ()) | {row.appliance}
            if (
                (condition == Condition.SILENT and self.silence)
                or (condition == Condition.CONSOLE and members & self.consoles)
                or (condition == Condition.PORTAL and row.target in self.servers)
            ):
                kept.add(key)
        return frozenset(kept)


async def look(
    ctx: Context, appliances: Sequence[Appliance], at: datetime
) -> tuple[list[Finding], Blind]:
    """What is wrong with each appliance now, as the bot sees it; and what it could not see."""
    blind = Blind()
    limit = asyncio.Semaphore(ctx.config.watch_concurrency)
    tls = asyncio.Semaphore(HANDSHAKES)
    timeout = ctx.config.probe_timeout
    with_console = [a for a in appliances if a.console]
    consoles = [_bounded(limit, _console(a, timeout, tls)) for a in with_console]
    # one probe per portal server, however many sensors need it
    users: dict[tuple[str, frozenset[int]], list[str]] = defaultdict(list)
    for appliance in appliances:
        targets, plain = tmsp_targets(appliance.tmsp_servers)
        for target in targets:
            users[(target, plain)].append(appliance.name)
    servers = [
        _bounded(
            limit,
            probe_server(target, timeout=timeout, plain_ports=plain, banner=False, handshakes=tls),
        )
        for target, plain in users
    ]
    done = await asyncio.gather(*consoles, *servers, return_exceptions=True)
    console_reports, server_reports = done[: len(consoles)], done[len(consoles) :]
    findings: list[Finding] = []
    for appliance, report in zip(with_console, console_reports, strict=True):
        if not isinstance(report, ConsoleReport):
            log.warning("sweep: the console of %s could not be probed: %s", appliance.name, report)
            blind.consoles.add(appliance.name)
            continue
        if not report.ok:
            findings.append(
                Finding(appliance.name, Condition.CONSOLE, report.target, console_detail(report))
            )
    for ((target, _plain), names), server in zip(users.items(), server_reports, strict=True):
        if not isinstance(server, ServerReport):
            log.warning("sweep: portal server %s could not be probed: %s", target, server)
            blind.servers.add(target)
            continue
        if not server.ok:
            detail = _failure(server.probes)
            findings.extend(Finding(n, Condition.PORTAL, target, detail) for n in names)
    silent = await silences(ctx, appliances, at)
    if silent is None:
        blind.silence = True
    else:
        findings.extend(silent)
    return findings, blind


async def silences(
    ctx: Context, appliances: Iterable[Appliance], at: datetime
) -> list[Finding] | None:
    """Feeds that carried detections and carried none for the silence limit, while a syslog
    receiver listened; None when some feed looks silent but no receiver listened all that
    time (silence nobody listened to says nothing about the sensor)."""
    silence = ctx.config.silence
    with_feed = [a for a in appliances if a.syslog_ids]
    if not with_feed:
        return []
    async with ctx.db.read() as session:
        last_seen = await syslog_counts.last_seen_all(session)
        quiet = [
            (a, last_seen[a.name])
            for a in with_feed
            if silent_for(last_seen.get(a.name), at, silence) is not None
        ]
        if not quiet:
            return []
        if not await syslog_receivers.listened_through(session, at - silence, at):
            return None
    return [Finding(a.name, Condition.SILENT, since=last) for a, last in quiet]


async def usual_rates(ctx: Context, findings: Iterable[Finding], at: datetime) -> dict[str, float]:
    """The usual detection rate of the silent sensors among ``findings`` (appliance -> per day;
    read only for the alerts about to be raised: a fleet alert does not show it, and a
    fleet-wide silence would read it hundreds of times)."""
    rates = {}
    for finding in findings:
        appliance = ctx.appliance(finding.appliance)
        if finding.condition == Condition.SILENT and appliance is not None:
            usual = await usual_per_day(ctx.db.sessions, appliance, at)
            if usual is not None:
                rates[appliance.name] = usual[0]
    return rates


def _known(rows: dict[str, AlertRow]) -> dict[str, OpenAlert]:
    return {
        key: OpenAlert(
            key,
            row.appliance,
            frozenset(row.detail.get("members") or ()),
            row.opened_at,
            bool(row.detail.get("after_fleet")),
        )
        for key, row in rows.items()
    }


def _detail(finding: Finding) -> dict[str, Any]:
    detail: dict[str, Any] = redacted(
        {
            "detail": finding.detail,
            "since": finding.since.isoformat() if finding.since else None,
            "per_day": finding.per_day,
        }
    )
    return detail


def _fleet_detail(fleet: FleetAlert) -> dict[str, Any]:
    first = fleet.findings[0]
    since = min((f.since for f in fleet.findings if f.since), default=None)
    detail: dict[str, Any] = redacted(
        {
            "detail": first.detail,
            "since": since.isoformat() if since else None,
            "per_day": None,
            "members": sorted(fleet.members),
        }
    )
    return detail


def alert_stream(alert_id: int) -> str:
    return f"alert-{alert_id}"


def alert_body(ctx: Context, row: AlertRow) -> dict[str, Any]:
    """The alert's message as it is now, as an outbox row's body."""
    body: dict[str, Any] = redacted(to_body(alert_message(row.lang, alert_of(row), ctx.style)))
    return body


async def show(session: AsyncSession, ctx: Context, row: AlertRow, now: datetime) -> None:
    """Queue the alert's message as it is now: its post the first time, else the update of
    its post (an update still waiting gets the newest content instead)."""
    body = alert_body(ctx, row)
    stream = alert_stream(row.id)
    key: str | None = f"alert:{row.id}"
    kind = Kind.ROOT
    if await outbox.by_key(session, f"alert:{row.id}") is not None:
        if await outbox.refresh_header(session, stream, body):
            return
        kind, key = Kind.HEADER, None
    await outbox.add(
        session, stream=stream, channel=row.channel, kind=kind.value, body=body, now=now,
        key=key, alert_id=row.id,
    )  # fmt: skip


def channel_for(ctx: Context, appliance: str | None) -> str | None:
    """Where an appliance's alerts go: its inventory channel, else ``alert_channel``."""
    found = ctx.appliance(appliance) if appliance and appliance != FLEET else None
    return (found.channel if found else None) or ctx.config.alert_channel


def _fleet_channel(ctx: Context, members: Iterable[str]) -> str | None:
    """A fleet alert goes to ``alert_channel``, else the channel most of its sensors use."""
    if ctx.config.alert_channel:
        return ctx.config.alert_channel
    counts: dict[str, int] = defaultdict(int)
    for name in members:
        channel = channel_for(ctx, name)
        if channel:
            counts[channel] += 1
    return max(sorted(counts), key=lambda c: counts[c]) if counts else None


async def carry_out(
    session: AsyncSession, ctx: Context, todo: Plan, open_rows: dict[str, AlertRow], now: datetime
) -> tuple[list[Alert], list[Alert], int]:
    """Write what the plan says, with the messages: (own alerts raised, fleet alerts raised,
    alerts cleared)."""
    raised: list[Alert] = []
    fleets: list[Alert] = []
    fleet_rows: dict[str, AlertRow] = {}  # by key: the fleet alerts raised or regrouped
    lang = ctx.config.lang
    for finding in todo.raise_own:
        channel = channel_for(ctx, finding.appliance)
        if channel is None:
            log.warning("sweep: %s has no channel for its alert (set DDI_BOT_ALERT_CHANNEL)",
                        finding.appliance)  # fmt: skip
            continue
        detail = _detail(finding)
        if key_of(finding) in todo.after_fleet:
            detail["after_fleet"] = True
        alert_id = await alerts.add(
            session, key=key_of(finding), appliance=finding.appliance,
            condition=finding.condition.value, target=finding.target, detail=detail,
            channel=channel, lang=lang, now=now,
        )  # fmt: skip
        row = await alerts.get(session, alert_id) if alert_id is not None else None
        if row is not None:
            await show(session, ctx, row, now)
            raised.append(alert_of(row))
    for fleet in todo.raise_fleet:
        channel = _fleet_channel(ctx, fleet.members)
        if channel is None:
            log.warning("sweep: no channel for a fleet alert (set DDI_BOT_ALERT_CHANNEL)")
            continue
        alert_id = await alerts.add(
            session, key=fleet.key, appliance=FLEET, condition=fleet.condition.value,
            target=fleet.target, detail=_fleet_detail(fleet), channel=channel, lang=lang,
            now=now,
        )  # fmt: skip
        row = await alerts.get(session, alert_id) if alert_id is not None else None
        if row is not None:
            await show(session, ctx, row, now)
            fleets.append(alert_of(row))
            fleet_rows[fleet.key] = row
            await note_open_cases(session, ctx, row, fleet.members, now)
    for fleet in todo.regroup:
        row = open_rows[fleet.key]
        before = set(row.detail.get("members") or ())
        await alerts.set_detail(session, row.id, _fleet_detail(fleet))
        row = await alerts.get(session, row.id) or row
        fleet_rows[fleet.key] = row
        await show(session, ctx, row, now)
        await note_open_cases(session, ctx, row, fleet.members - before, now)
    for key, into in todo.fold.items():
        fleet_row = fleet_rows.get(into) or open_rows.get(into)
        where = fleet_row.channel if fleet_row is not None else None
        await close(session, ctx, open_rows[key], Closed.FOLDED, now, fleet_channel=where)
    cleared = 0
    for key in todo.clear:
        row = open_rows[key]
        gone = row.appliance != FLEET and ctx.appliance(row.appliance) is None
        cleared += await close(session, ctx, row, Closed.GONE if gone else Closed.RECOVERED, now)
    return raised, fleets, cleared


async def close(
    session: AsyncSession,
    ctx: Context,
    row: AlertRow,
    why: Closed,
    now: datetime,
    **more: Any,
) -> bool:
    """Close an open alert for ``why`` and show it so; False if it was closed already."""
    detail = {**row.detail, "closed": why.value, **more}
    if not await alerts.close(session, row.id, now, detail):
        return False
    found = await alerts.get(session, row.id)
    if found is not None:
        await show(session, ctx, found, now)
    return True


async def note_open_cases(
    session: AsyncSession, ctx: Context, row: AlertRow, members: Iterable[str], now: datetime
) -> None:
    """Tell the cases open on a fleet alert's sensors that the cause is not theirs (once)."""
    alert = alert_of(row)
    where = ctx.style.channel(row.channel)
    names = set(members)
    for case in await cases.open_cases(session):  # one read, however many sensors
        if case.appliance not in names or not case.channel:
            continue
        case = await cases.lock(session, case.id) or case  # queued in order with its own
        text = fleet_note(case.lang, alert, where, ctx.style)
        await say(session, case, Message(text), now, key=f"fleet-note:{row.id}:{case.id}")


async def _open_rows(session: AsyncSession) -> dict[str, AlertRow]:
    return {row.key: row for row in await alerts.open_alerts(session)}


async def sweep(ctx: Context) -> SweepReport:
    """One sweep of the whole inventory."""
    began = time.monotonic()
    at = ctx.clock()
    appliances = list(ctx.inventory.appliances)
    findings, blind = await look(ctx, appliances, at)
    now = ctx.clock()

    def planned(rows: dict[str, AlertRow]) -> Plan:
        return plan(findings, _known(rows), ctx.config.fleet_quorum, now=now,
                    window=ctx.config.silence, keep=blind.keeps(rows))  # fmt: skip

    async with ctx.db.read() as session:  # a first plan, to know whose usual rate to show
        draft = planned(await _open_rows(session))
    rates = await usual_rates(ctx, draft.raise_own, now)
    findings = [
        replace(f, per_day=rates[f.appliance])
        if f.condition == Condition.SILENT and f.appliance in rates
        else f
        for f in findings
    ]
    async with ctx.db.write() as session:  # the plan again, on the alerts as they are now
        rows = await _open_rows(session)
        todo = planned(rows)
        raised, fleets, cleared = await carry_out(session, ctx, todo, rows, now)
    if not todo.empty:
        ctx.wake.outbox.set()
    took = time.monotonic() - began
    metrics.SWEEP_SECONDS.observe(took)
    for alert in (*raised, *fleets):
        scope = "fleet" if alert.fleet else "appliance"
        metrics.ALERTS.labels(alert.condition.value, scope).inc()
    if raised or fleets or cleared:
        log.info("sweep of %d appliance(s): %d alert(s), %d fleet alert(s), %d cleared, %.1f s",
                 len(appliances), len(raised), len(fleets), cleared, took)  # fmt: skip
    return SweepReport(at, len(appliances), tuple(findings), tuple(raised), tuple(fleets),
                       cleared, took)  # fmt: skip
