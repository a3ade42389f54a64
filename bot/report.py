"""The vendor-ready escalation report, built from the case state and its timeline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.i18n import t
from bot.presenter import CaseView, Message, Style


@dataclass(frozen=True)
class ReportFacts:
    """What the timeline adds to the state: answers and files a person gave, the probes."""

    maintenance: tuple[str, str] | None = None  # (yes/no/unknown, notes)
    network: dict[str, Any] | None = None  # the probes' record (bot.engine.checks)
    files: tuple[tuple[str, int, str], ...] = field(default=())  # (name, size, sha256)


def facts_from(events: Sequence[tuple[str, dict[str, Any]]]) -> ReportFacts:
    """The latest maintenance answer and probes, and every file taken, from (kind, data)."""
    maintenance = network = None
    files: list[tuple[str, int, str]] = []
    for kind, data in events:
        if kind == "maintenance":
            maintenance = (str(data.get("answer")), str(data.get("notes") or ""))
        elif kind == "probes":
            network = data
        elif kind == "artifact":
            files.append((str(data["name"]), int(data["size"]), str(data["sha256"])))
    return ReportFacts(maintenance, network, tuple(files))


def _network(lang: str, network: dict[str, Any] | None, style: Style) -> str:
    if network is None:
        return t(lang, "report.not_run")
    parts = []
    console = network.get("console")
    if console:
        state = "OK" if console.get("ok") else str(console.get("failure"))
        part = f"console `{style.escape(str(console.get('target')))}` {state}"
        if console.get("sha256"):
            part += f", SHA-256 `{console['sha256']}` ({console.get('pin')})"
        parts.append(part)
    for target, state in (network.get("tmsp") or {}).items():
        parts.append(f"`{style.escape(str(target))}` {style.escape(str(state))}")
    return "; ".join(parts) or t(lang, "report.not_run")


def vendor_report(
    view: CaseView, style: Style, reboots: int, facts: ReportFacts | None = None
) -> Message:
    lang, s = view.lang, view.state
    facts = facts or ReportFacts()
    maintenance = t(lang, "report.unknown")
    if facts.maintenance is not None:
        answer, notes = facts.maintenance
        maintenance = t(lang, f"modal.maintenance.{answer}")
        if notes.strip():
            maintenance += f" — {style.escape(notes)}"
    not_run = t(lang, "report.not_run")
    connection = f"`{style.escape(s.connection_message)}`" if s.connection_message else not_run
    detections = str(s.detections) if s.detections is not None else not_run
    capture = (
        t(lang, "report.packets", packets=s.capture_packets)
        if s.capture_packets is not None
        else not_run
    )
    debug = not_run
    if s.debug_bundle:
        debug = f"`{style.escape(s.debug_bundle)}` SHA-256 `{s.debug_sha256}`"
    lines = [
        t(lang, "report.title", case_id=view.case_id, appliance=style.escape(view.appliance)),
        "• " + t(lang, "report.connection", value=connection),
        *(
            ["• " + t(lang, "report.verify", value=f"`{style.escape(s.verify_message)}`")]
            if s.verify_message
            else []
        ),
        "• " + t(lang, "report.maintenance", value=maintenance),
        "• " + t(lang, "report.network", value=_network(lang, facts.network, style)),
        "• " + t(lang, "report.detections", value=detections),
        "• " + t(lang, "report.capture", value=capture),
        "• " + t(lang, "report.debug", value=debug),
        "• " + t(lang, "report.reboots", value=reboots),
        *(
            "• " + t(lang, "report.file", name=style.escape(name), size=size, sha256=digest)
            for name, size, digest in facts.files
        ),
    ]
    return Message("\n".join(lines))
