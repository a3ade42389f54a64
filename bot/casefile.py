"""The case file: everything a vendor's support engineer or an auditor needs about one case, as
``case-N.md`` (for people, in the case's language) and ``case-N.json`` (for tools). Pure.

The JSON's shape is versioned (``schema``, ``version``) and documented in docs/case-file.md:
a new field may appear within a version; a field removed or changed in meaning makes a new
version. The timeline's hash chain head is in both files, so the record can later be checked
against the database (``ddi-bot case verify N``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.i18n import t
from bot.inventory import Appliance
from bot.messenger import Attachment

SCHEMA = "ddi-bot/case-file"
VERSION = 1
# keys of step records that only mean something on the bot's host (no longer recorded; cases of
# older releases have them). Timeline events are shown as they are: their hashes cover them.
_INTERNAL = frozenset({"stored"})


@dataclass(frozen=True)
class StepRun:
    step: int
    started_at: datetime
    finished_at: datetime | None
    outcome: str | None
    result: dict[str, Any]


@dataclass(frozen=True)
class DecisionRecord:
    point: str
    choice: str
    user: str
    at: datetime
    case_version: int  # the version of the question answered
    evidence: str | None = None  # a reboot's approval or refusal: the evidence it was given on


@dataclass(frozen=True)
class TimelineEvent:
    seq: int | None
    at: datetime
    kind: str
    actor: str | None
    data: dict[str, Any]
    hash: str | None


@dataclass(frozen=True)
class RebootRecord:
    key: str
    outcome: str | None  # sent, failed, or None (its outcome unknown: the bot stopped)
    recorded_at: datetime
    completed_at: datetime | None


@dataclass(frozen=True)
class CaseRecord:
    case_id: int
    appliance: str
    lang: str
    requested_by: str
    opened_at: datetime
    closed_at: datetime | None
    phase: str
    outcome: str | None
    reason: str | None
    version: int
    inventory: Appliance | None  # None: no longer in the inventory
    steps: Sequence[StepRun] = ()
    decisions: Sequence[DecisionRecord] = ()
    reboots: Sequence[RebootRecord] = ()
    events: Sequence[TimelineEvent] = ()
    chain_events: int = 0
    chain_head: str | None = None
    probes: dict[str, Any] | None = field(default=None)

    @property
    def artifacts(self) -> list[dict[str, Any]]:
        """Every file the case kept: posted in the thread, or collected (the debug bundle)."""
        found: list[dict[str, Any]] = []
        for event in self.events:
            if event.kind == "artifact":
                found.append(_artifact(event.data, event.actor, "posted"))
        for run in self.steps:
            if run.step == 4 and run.result.get("sha256") and run.result.get("filename"):
                data = {"name": run.result["filename"], **run.result}
                found.append(_artifact(data, None, "collected"))
        return found

    @property
    def maintenance(self) -> dict[str, Any] | None:
        answer = None
        for event in self.events:
            if event.kind == "maintenance":
                answer = {
                    "answer": event.data.get("answer"),
                    "notes": event.data.get("notes"),
                    "by": event.actor,
                    "at": _iso(event.at),
                }
        return answer


def _artifact(data: dict[str, Any], by: str | None, how: str) -> dict[str, Any]:
    return {
        "name": str(data.get("name")),
        "size": data.get("size"),
        "sha256": data.get("sha256"),
        "how": how,
        "by": by,
    }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _public(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k not in _INTERNAL}


def to_json(record: CaseRecord) -> dict[str, Any]:
    inventory = record.inventory
    return {
        "schema": SCHEMA,
        "version": VERSION,
        "case": {
            "id": record.case_id,
            "appliance": record.appliance,
            "language": record.lang,
            "requested_by": record.requested_by,
            "opened_at": _iso(record.opened_at),
            "closed_at": _iso(record.closed_at),
            "phase": record.phase,
            "outcome": record.outcome,
            "reason": record.reason,
            "version": record.version,
        },
        "appliance": None
        if inventory is None
        else {
            "name": inventory.name,
            "driver": inventory.driver,
            "site": inventory.site,
            "console": inventory.console,
            "tls_fingerprint": inventory.tls_fingerprint,
            "tmsp_servers": list(inventory.tmsp_servers),
            "syslog_ids": list(inventory.syslog_ids),
            "capture_interface": inventory.capture_interface,
        },
        "maintenance": record.maintenance,
        "probes": record.probes,
        "steps": [
            {
                "step": run.step,
                "started_at": _iso(run.started_at),
                "finished_at": _iso(run.finished_at),
                "outcome": run.outcome,
                "result": _public(run.result),
            }
            for run in record.steps
        ],
        "artifacts": record.artifacts,
        "decisions": [
            {
                "point": d.point,
                "choice": d.choice,
                "by": d.user,
                "at": _iso(d.at),
                "case_version": d.case_version,
                "evidence": d.evidence,
            }
            for d in record.decisions
        ],
        "reboots": [
            {
                "key": r.key,
                "outcome": r.outcome,
                "recorded_at": _iso(r.recorded_at),
                "completed_at": _iso(r.completed_at),
            }
            for r in record.reboots
        ],
        "timeline": [
            {
                "seq": e.seq,
                "at": _iso(e.at),
                "kind": e.kind,
                "actor": e.actor,
                "data": e.data,
                "hash": e.hash,
            }
            for e in record.events
        ],
        "chain": {"events": record.chain_events, "head": record.chain_head},
    }


def _cell(value: Any) -> str:
    """A value in a Markdown table cell: one line, pipes escaped."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def to_markdown(record: CaseRecord) -> str:
    lang = record.lang
    lines = [
        f"# {t(lang, 'casefile.title', case_id=record.case_id, appliance=record.appliance)}",
        "",
    ]
    outcome = t(lang, f"case.{record.outcome}") if record.outcome else t(lang, "case.open")
    reason = t(lang, f"reason.{record.reason}") if record.reason else "—"
    lines += [
        f"- {t(lang, 'casefile.requested_by')}: {_cell(record.requested_by)}",
        f"- {t(lang, 'casefile.opened')}: {_iso(record.opened_at)}",
        f"- {t(lang, 'casefile.closed')}: {_iso(record.closed_at) or '—'}",
        f"- {t(lang, 'casefile.outcome')}: {outcome} ({reason})",
        f"- {t(lang, 'casefile.chain')}: {record.chain_events} / `{record.chain_head or '—'}`",
        "",
        f"## {t(lang, 'casefile.appliance')}",
        "",
    ]
    inventory = record.inventory
    if inventory is None:
        lines.append(t(lang, "casefile.not_in_inventory"))
    else:
        for label, value in (
            ("driver", inventory.driver),
            ("site", inventory.site),
            ("console", inventory.console),
            ("tls_fingerprint", inventory.tls_fingerprint),
            ("tmsp_servers", ", ".join(inventory.tmsp_servers)),
            ("syslog_ids", ", ".join(inventory.syslog_ids)),
            ("capture_interface", inventory.capture_interface),
        ):
            lines.append(f"- `{label}`: {_cell(value) if value else '—'}")
    maintenance = record.maintenance
    lines += ["", f"## {t(lang, 'casefile.steps')}", ""]
    lines += [
        f"| {t(lang, 'casefile.step')} | {t(lang, 'casefile.outcome')} | "
        f"{t(lang, 'casefile.finished')} | {t(lang, 'casefile.result')} |",
        "|---|---|---|---|",
    ]
    for run in record.steps:
        name = t(lang, f"step.{run.step}")
        lines.append(
            f"| {run.step} {name} | {run.outcome or '—'} | "
            f"{_iso(run.finished_at) or '—'} | {_cell(_public(run.result))} |"
        )
    lines += [
        "",
        f"- {t(lang, 'casefile.maintenance')}: " + (_cell(maintenance) if maintenance else "—"),
    ]
    lines.append(
        f"- {t(lang, 'casefile.probes')}: " + (_cell(record.probes) if record.probes else "—")
    )
    lines += ["", f"## {t(lang, 'casefile.artifacts')}", ""]
    artifacts = record.artifacts
    if not artifacts:
        lines.append("—")
    for item in artifacts:
        size = t(lang, "casefile.bytes", size=item["size"])
        how = t(lang, f"casefile.{item['how']}")
        lines.append(f"- `{_cell(item['name'])}` — {size}, SHA-256 `{item['sha256']}` ({how})")
    lines += ["", f"## {t(lang, 'casefile.decisions')}", ""]
    if not record.decisions:
        lines.append("—")
    for d in record.decisions:
        version = t(lang, "casefile.version", version=d.case_version)
        if d.evidence:
            version += ", " + t(lang, "casefile.evidence", digest=_cell(d.evidence))
        lines.append(
            f"- {_iso(d.at)} — {_cell(d.point)}: {_cell(d.choice)} — {_cell(d.user)} ({version})"
        )
    lines += ["", f"## {t(lang, 'casefile.reboots')}", ""]
    if not record.reboots:
        lines.append("—")
    for r in record.reboots:
        lines.append(
            f"- `{r.key}`: {r.outcome or t(lang, 'casefile.unknown')} ({_iso(r.recorded_at)})"
        )
    lines += [
        "",
        f"## {t(lang, 'casefile.timeline')}",
        "",
        f"| # | {t(lang, 'casefile.when')} | {t(lang, 'casefile.kind')} | "
        f"{t(lang, 'casefile.who')} | {t(lang, 'casefile.data')} | SHA-256 |",
        "|---|---|---|---|---|---|",
    ]
    for e in record.events:
        lines.append(
            f"| {e.seq} | {_iso(e.at)} | {e.kind} | {_cell(e.actor or '—')} | "
            f"{_cell(e.data)} | `{(e.hash or '—')[:16]}` |"
        )
    return "\n".join(lines) + "\n"


def attachments(record: CaseRecord) -> tuple[Attachment, Attachment]:
    """The two files posted in the case thread."""
    stem = f"case-{record.case_id}"
    title = t(record.lang, "casefile.title", case_id=record.case_id, appliance=record.appliance)
    text = json.dumps(to_json(record), ensure_ascii=False, indent=2, sort_keys=False)
    return (
        Attachment(f"{stem}.md", to_markdown(record).encode("utf-8"), title),
        Attachment(f"{stem}.json", (text + "\n").encode("utf-8"), f"{title} (JSON)"),
    )
