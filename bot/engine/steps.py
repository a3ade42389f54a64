"""Runs one runbook step through a driver and turns its result into an observation and what
to show and record with it (a ``StepOutcome``); ``apply`` does the rest."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Awaitable
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from bot import metrics
from bot.capture import (
    AnalysisOptions,
    Verdict,
    analyse_with_chart_in_worker,
    summary_text,
    verdict_text,
)
from bot.detections import DetectionSummary, render_summary
from bot.drivers.base import ConnectionTestResult, DetectionCount, Driver
from bot.engine.note import Note
from bot.errors import CaptureError, DriverError
from bot.messenger import Attachment
from bot.presenter import (
    CaseView,
    Message,
    Style,
    connection_result,
    debug_result,
    detections_result,
)
from bot.runbook import Step
from bot.runbook.messages import (
    CaptureAnalysed,
    ConnectionTested,
    DebugLogsCollected,
    DetectionsCounted,
    Observation,
    StepFailed,
)

DETECTION_WINDOW = timedelta(hours=24)  # the period step 2 asks about, ending now


@dataclass(frozen=True)
class StepOutcome:
    observation: Observation
    message: Message | None
    record: dict[str, Any]  # stored in the step run and the timeline
    outcome: str  # ok, problem, failed
    attachments: tuple[Attachment, ...] = ()

    def note(self, **more: Any) -> Note:
        """What ``apply`` records and shows with the observation (``more``: who, how, ...)."""
        return Note(
            message=self.message,
            record=self.record,
            outcome=self.outcome,
            attachments=self.attachments,
            **more,
        )


@dataclass(frozen=True)
class StepContext:
    view: CaseView
    style: Style
    now: datetime
    capture_seconds: float
    artifacts: Path
    sensor_ip: str | None = None  # to tell the sensor's own traffic from mirrored traffic
    analysis_budget: float = 120.0  # seconds one capture analysis may take
    detection_window: timedelta = DETECTION_WINDOW
    tz: tzinfo = UTC  # the consoles' time zone
    # capture analyses are CPU-bound, in worker processes: at most this many at once
    analyses: AbstractAsyncContextManager[Any] = field(default_factory=nullcontext)

    @property
    def case_folder(self) -> Path:
        return self.artifacts / f"case-{self.view.case_id}"


def safe_name(name: str) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]", "_", Path(name.replace("\\", "/")).name).lstrip(".")
    return base[:120] or "artifact"


async def run_step(which: Step, driver: Driver, ctx: StepContext) -> StepOutcome:
    """Never raises for appliance trouble: that becomes a ``StepFailed`` observation."""
    return await guarded(which, _run(which, driver, ctx))


async def guarded(which: Step, work: Awaitable[StepOutcome]) -> StepOutcome:
    """Appliance and capture trouble become a ``StepFailed`` outcome, with their detail."""
    try:
        return await work
    except DriverError as exc:
        return StepOutcome(
            StepFailed(which, exc.code), None, {"error": exc.code, "detail": exc.detail}, "failed"
        )
    except CaptureError as exc:
        return StepOutcome(
            StepFailed(which, "capture"), None, {"error": "capture", "detail": exc.detail}, "failed"
        )


async def _run(which: Step, driver: Driver, ctx: StepContext) -> StepOutcome:
    if which == Step.CONNECTION_TEST:
        return connection_outcome(ctx, await driver.test_connection())
    if which == Step.DETECTION_QUERY:
        start = ctx.now - ctx.detection_window
        return detections_outcome(ctx, await driver.query_detections(start, ctx.now))
    if which == Step.PACKET_CAPTURE:
        export = await driver.capture(ctx.capture_seconds)
        return await capture_outcome(ctx, export.filename, export.content)
    if which == Step.DEBUG_LOGS:
        bundle = await driver.export_debug_logs()
        name = safe_name(bundle.filename)
        folder = ctx.case_folder
        digest = await asyncio.to_thread(_store, folder / name, bundle.content)
        return debug_outcome(ctx, name, len(bundle.content), digest)
    raise ValueError(f"step {which} is not run through run_step")


def connection_outcome(ctx: StepContext, result: ConnectionTestResult) -> StepOutcome:
    after_reboot = ctx.view.state.reboot_attempts > 0
    return StepOutcome(
        ConnectionTested(result.verified, result.message),
        connection_result(ctx.view.lang, result.verified, result.message, after_reboot, ctx.style),
        {"verified": result.verified, "message": result.message},
        "ok" if result.verified else "problem",
    )


def detections_outcome(ctx: StepContext, counted: DetectionCount) -> StepOutcome:
    return StepOutcome(
        DetectionsCounted(counted.count),
        detections_result(ctx.view.lang, counted.count, counted.period_start, counted.period_end),
        {
            "count": counted.count,
            "start": counted.period_start.isoformat(),
            "end": counted.period_end.isoformat(),
        },
        "ok" if counted.count > 0 else "problem",
    )


def export_outcome(ctx: StepContext, summary: DetectionSummary, filename: str) -> StepOutcome:
    """Step 2 answered by the detection log export a person posted in the thread."""
    count = summary.in_period
    return StepOutcome(
        DetectionsCounted(count),
        Message(render_summary(ctx.view.lang, summary, ctx.tz, style=ctx.style)),
        {
            "count": count,
            "start": summary.start.isoformat(),
            "end": summary.end.isoformat(),
            "filename": filename,
            "rows": summary.total_rows,
            "by_severity": dict(summary.by_severity),
            "by_type": dict(summary.by_type[:20]),
            "period_checked": summary.period_checked,
        },
        "ok" if count > 0 else "problem",
    )


async def capture_outcome(ctx: StepContext, filename: str, data: bytes | Path) -> StepOutcome:
    """Analyse a capture export (bytes from a driver, or a file posted in the thread)."""
    lang = ctx.view.lang
    options = AnalysisOptions(sensor_ip=ctx.sensor_ip)
    async with ctx.analyses:
        analysis, chart = await analyse_with_chart_in_worker(
            data, filename, options, ctx.analysis_budget, lang
        )
    metrics.CAPTURES.labels(analysis.verdict.value).inc()
    summary = analysis.summary
    receiving = analysis.verdict == Verdict.RECEIVING
    text = summary_text(analysis, lang) + "\n" + verdict_text(analysis, lang)
    stem = safe_name(filename).rsplit(".", 1)[0]
    return StepOutcome(
        CaptureAnalysed(summary.packets, receiving),
        Message(text),
        {
            "filename": filename,
            "files": list(summary.files),
            "packets": summary.packets,
            "bytes": summary.bytes,
            "partial": summary.reason if summary.partial else None,
            "verdict": analysis.verdict.value,
            "reasons": [reason.code for reason in analysis.reasons],
        },
        "ok" if receiving else "problem",
        (Attachment(f"{stem}-rate.png", chart, f"{stem}: packets per second"),),
    )


def debug_outcome(ctx: StepContext, name: str, size: int, sha256: str) -> StepOutcome:
    """A debug bundle stored in the case folder: its name, size and SHA-256 go to the report."""
    return StepOutcome(
        DebugLogsCollected(name, sha256),
        debug_result(ctx.view.lang, name, size, sha256, ctx.style),
        {"filename": name, "size": size, "sha256": sha256},
        "ok",
    )


def _store(path: Path, content: bytes) -> str:
    """Write atomically and return the SHA-256 (in a thread: bundles can be large)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_bytes(content)
    tmp.replace(path)
    return hashlib.sha256(content).hexdigest()
