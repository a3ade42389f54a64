"""Runs one runbook step through a driver and turns its result into an observation + message."""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.capture import (
    AnalysisOptions,
    Verdict,
    analyse_in_worker,
    render_chart,
    summary_text,
    verdict_text,
)
from bot.drivers.base import Driver
from bot.errors import CaptureError, DriverError
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


@dataclass(frozen=True)
class Upload:
    filename: str
    content: bytes
    title: str


@dataclass(frozen=True)
class StepOutcome:
    observation: Observation
    message: Message | None
    record: dict[str, Any]  # stored in the step run and the timeline
    outcome: str  # ok, problem, failed
    uploads: tuple[Upload, ...] = ()


@dataclass(frozen=True)
class StepContext:
    driver: Driver
    view: CaseView
    style: Style
    now: datetime
    capture_seconds: float
    artifacts: Path
    sensor_ip: str | None = None  # to tell the sensor's own traffic from mirrored traffic
    analysis_budget: float = 120.0  # seconds one capture analysis may take
    detection_window: timedelta = timedelta(hours=24)


def _safe_name(name: str) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]", "_", Path(name.replace("\\", "/")).name).lstrip(".")
    return base[:120] or "artifact"


async def run_step(which: Step, ctx: StepContext) -> StepOutcome:
    """Never raises for appliance trouble: that becomes a ``StepFailed`` observation."""
    try:
        return await _run(which, ctx)
    except DriverError as exc:
        return StepOutcome(
            StepFailed(which, exc.code), None, {"error": exc.code, "detail": exc.detail}, "failed"
        )
    except CaptureError as exc:
        return StepOutcome(
            StepFailed(which, "capture"), None, {"error": "capture", "detail": exc.detail}, "failed"
        )


async def _run(which: Step, ctx: StepContext) -> StepOutcome:
    lang, style = ctx.view.lang, ctx.style
    if which == Step.CONNECTION_TEST:
        result = await ctx.driver.test_connection()
        after_reboot = ctx.view.state.reboot_attempts > 0
        return StepOutcome(
            ConnectionTested(result.verified, result.message),
            connection_result(lang, result.verified, result.message, after_reboot, style),
            {"verified": result.verified, "message": result.message},
            "ok" if result.verified else "problem",
        )
    if which == Step.DETECTION_QUERY:
        start = ctx.now - ctx.detection_window
        counted = await ctx.driver.query_detections(start, ctx.now)
        return StepOutcome(
            DetectionsCounted(counted.count),
            detections_result(lang, counted.count, counted.period_start, counted.period_end),
            {
                "count": counted.count,
                "start": counted.period_start.isoformat(),
                "end": counted.period_end.isoformat(),
            },
            "ok" if counted.count > 0 else "problem",
        )
    if which == Step.PACKET_CAPTURE:
        export = await ctx.driver.capture(ctx.capture_seconds)
        options = AnalysisOptions(sensor_ip=ctx.sensor_ip)
        analysis = await analyse_in_worker(
            export.content, export.filename, options, ctx.analysis_budget
        )
        chart = await asyncio.to_thread(render_chart, analysis)
        summary = analysis.summary
        receiving = analysis.verdict == Verdict.RECEIVING
        text = summary_text(analysis, lang) + "\n" + verdict_text(analysis, lang)
        stem = _safe_name(export.filename).rsplit(".", 1)[0]
        return StepOutcome(
            CaptureAnalysed(summary.packets, receiving),
            Message(text),
            {
                "filename": export.filename,
                "files": list(summary.files),
                "packets": summary.packets,
                "bytes": summary.bytes,
                "partial": summary.reason if summary.partial else None,
                "verdict": analysis.verdict.value,
                "reasons": [reason.code for reason in analysis.reasons],
            },
            "ok" if receiving else "problem",
            (Upload(f"{stem}-rate.png", chart, f"{stem}: packets per second"),),
        )
    if which == Step.DEBUG_LOGS:
        bundle = await ctx.driver.export_debug_logs()
        name = _safe_name(bundle.filename)
        folder = ctx.artifacts / f"case-{ctx.view.case_id}"
        digest = await asyncio.to_thread(_store, folder / name, bundle.content)
        return StepOutcome(
            DebugLogsCollected(name, digest),
            debug_result(lang, name, len(bundle.content), digest, style),
            {
                "filename": name,
                "size": len(bundle.content),
                "sha256": digest,
                "stored": str(folder),
            },
            "ok",
        )
    raise ValueError(f"step {which} is not run through run_step")


def _store(path: Path, content: bytes) -> str:
    """Write atomically and return the SHA-256 (in a thread: bundles can be large)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_bytes(content)
    tmp.replace(path)
    return hashlib.sha256(content).hexdigest()
