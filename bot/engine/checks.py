"""What the bot checks by itself, whatever the driver: the network path to the sensor and its
portal (at the start of a case), and the syslog feed (which can answer step 2)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from bot.engine.feed import feed_summary, feed_text, usual_per_day
from bot.engine.steps import DETECTION_WINDOW, StepOutcome
from bot.errors import DdiBotError
from bot.inventory import Appliance
from bot.notifier import Thread
from bot.presenter import CaseView, Message
from bot.probes import PLAIN_PORTS, ProbeReport, parse_endpoint, probe_all, render_report
from bot.runbook.messages import DetectionsCounted
from storage import timeline

if TYPE_CHECKING:
    from bot.engine.core import Engine

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


class Checks:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _appliance(self, view: CaseView) -> Appliance | None:
        try:
            return self.engine.inventory.get(view.appliance)
        except DdiBotError:
            return None

    async def network(self, view: CaseView, thread: Thread) -> None:
        """DNS, TCP and TLS to the console and the TMSP servers; posted once per case version."""
        engine = self.engine
        appliance = self._appliance(view)
        if appliance is None or not (appliance.console or appliance.tmsp_servers):
            return
        async with engine.sessions() as session:
            if await timeline.has_event(session, view.case_id, "probes", view.version):
                return
        targets, plain = tmsp_targets(appliance.tmsp_servers)
        report = await probe_all(
            appliance.console,
            targets,
            pin=appliance.tls_fingerprint,
            ca_file=appliance.tls_ca_file,
            timeout=engine.config.probe_timeout,
            plain_ports=plain,
        )
        text = "\n".join(render_report(view.lang, report, engine.notifier.style))
        await engine.executor.notify(engine.notifier.post(view, thread, Message(text)))
        async with engine.sessions.begin() as session:
            data = {"version": view.version, **report_record(report)}
            await timeline.add_event(session, view.case_id, "probes", data, engine.clock())

    async def with_usual(self, view: CaseView, outcome: StepOutcome) -> StepOutcome:
        """A step 2 result, with how many detections this sensor usually has (syslog history),
        for the quiet/busy question."""
        appliance = self._appliance(view)
        obs = outcome.observation
        if appliance is None or not isinstance(obs, DetectionsCounted):
            return outcome
        usual = await usual_per_day(self.engine.sessions, appliance, self.engine.clock())
        if usual is None:
            return outcome
        per_day = usual[0]
        record = {**outcome.record, "per_day": per_day}
        return replace(outcome, observation=replace(obs, per_day=per_day), record=record)

    async def feed(self, view: CaseView) -> StepOutcome | None:
        """Step 2 from the syslog feed, for a sensor known to forward its detections."""
        engine = self.engine
        appliance = self._appliance(view)
        if appliance is None:
            return None
        end = engine.clock()
        start = end - DETECTION_WINDOW
        since = engine.syslog_listening()
        feed = await feed_summary(engine.sessions, appliance, start, end, since)
        if feed is None:
            return None
        record = {
            "count": feed.count,
            "start": feed.start.isoformat(),
            "end": feed.end.isoformat(),
            "source": "syslog",
            "per_day": feed.per_day,
        }
        return StepOutcome(
            DetectionsCounted(feed.count, feed.per_day),
            Message(feed_text(view.lang, feed)),
            record,
            "ok" if feed.count else "problem",
        )
