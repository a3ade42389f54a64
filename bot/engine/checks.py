"""What the bot checks by itself, whatever the driver: the network path to the sensor and its
portal (at the start of a case), and the syslog feed (which can answer step 2)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.engine.context import Context
from bot.engine.feed import feed_summary, feed_text, usual_per_day
from bot.engine.outbox import say
from bot.engine.steps import DETECTION_WINDOW, StepOutcome
from bot.inventory import Appliance
from bot.presenter import CaseView, Message
from bot.probes import PLAIN_PORTS, ProbeReport, parse_endpoint, probe_all, render_report
from bot.runbook.messages import DetectionsCounted
from storage import cases, timeline
from storage.timeline import EventKind

PLAIN_PREFIX = "tcp://"  # a TMSP entry that is a plain TCP service (an HTTP proxy, say)


def tmsp_targets(servers: tuple[str, ...]) -> tuple[list[str], frozenset[int]]:
    """The servers to probe, and the ports on which no TLS handshake is attempted."""
    targets: list[str] = []
    plain = set(PLAIN_PORTS)
    for server in servers:
        if server.startswith(PLAIN_PREFIX):
            server = server.removeprefix(PLAIN_PREFIX)
            plain.add(parse_endpoint(server, default_port=None).port)
        targets.append(server)
    return targets, frozenset(plain)


def report_record(report: ProbeReport) -> dict[str, Any]:
    """What the timeline keeps of the probes (for the history and the vendor)."""
    record: dict[str, Any] = {"ok": report.ok, "tmsp": {}}
    console = report.console
    if console is not None:
        record["console"] = {
            "target": console.target,
            "ok": console.ok,
            "failure": next((p.failure for p in console.probes if not p.ok), None),
        }
        cert = console.certificate
        if cert is not None:
            record["console"].update(sha256=cert.sha256, pin=cert.pin, subject=cert.subject)
    for server in report.tmsp:
        failure = next((p.failure for p in server.probes if not p.ok), None)
        record["tmsp"][server.target] = "ok" if server.ok else str(failure)
    return record


async def probe_appliance(ctx: Context, appliance: Appliance) -> ProbeReport:
    """The console (DNS, TCP, TLS, pin) and the TMSP servers the inventory gives."""
    targets, plain = tmsp_targets(appliance.tmsp_servers)
    return await probe_all(
        appliance.console,
        targets,
        pin=appliance.tls_fingerprint,
        ca_file=appliance.tls_ca_file,
        timeout=ctx.config.probe_timeout,
        plain_ports=plain,
    )


async def network(ctx: Context, view: CaseView) -> None:
    """DNS, TCP and TLS to the console and the TMSP servers; posted once per case."""
    appliance = ctx.appliance(view.appliance)
    if appliance is None or not (appliance.console or appliance.tmsp_servers):
        return
    async with ctx.db.read() as session:
        if await timeline.has_event(session, view.case_id, EventKind.PROBES):
            return
    report = await probe_appliance(ctx, appliance)
    text = "\n".join(render_report(view.lang, report, ctx.style))
    now = ctx.clock()
    async with ctx.db.write() as session:
        row = await cases.lock(session, view.case_id)
        if row is None or row.open_key is None:
            return
        if not await timeline.has_event(session, view.case_id, EventKind.PROBES):
            data = {"version": view.version, **report_record(report)}
            await timeline.add_event(session, view.case_id, EventKind.PROBES, data, now)
            await say(session, row, Message(text), now, key=f"probes:{row.id}")
    ctx.wake.outbox.set()


async def with_usual(ctx: Context, view: CaseView, outcome: StepOutcome) -> StepOutcome:
    """A step 2 result, with how many detections this sensor usually has (syslog history),
    for the quiet/busy question."""
    appliance = ctx.appliance(view.appliance)
    obs = outcome.observation
    if appliance is None or not isinstance(obs, DetectionsCounted):
        return outcome
    usual = await usual_per_day(ctx.db.sessions, appliance, ctx.clock())
    if usual is None:
        return outcome
    per_day = usual[0]
    record = {**outcome.record, "per_day": per_day}
    return replace(outcome, observation=replace(obs, per_day=per_day), record=record)


async def feed(ctx: Context, view: CaseView) -> StepOutcome | None:
    """Step 2 from the syslog feed, for a sensor known to forward its detections."""
    appliance = ctx.appliance(view.appliance)
    if appliance is None:
        return None
    end = ctx.clock()
    start = end - DETECTION_WINDOW
    found = await feed_summary(ctx.db.sessions, appliance, start, end)
    if found is None:
        return None
    record = {
        "count": found.count,
        "start": found.start.isoformat(),
        "end": found.end.isoformat(),
        "source": "syslog",
        "per_day": found.per_day,
    }
    return StepOutcome(
        DetectionsCounted(found.count, found.per_day),
        Message(feed_text(view.lang, found)),
        record,
        "ok" if found.count else "problem",
    )
