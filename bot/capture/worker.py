"""Run a capture analysis in a separate process with a hard time budget.

A process (not a thread) so that a runaway parse can be killed; ``spawn`` so that nothing of the
event loop's process (threads, sockets) is inherited.
"""

from __future__ import annotations

import asyncio
import dataclasses
import multiprocessing
from multiprocessing.connection import Connection
from pathlib import Path

from bot.capture.analyse import analyse_export
from bot.capture.model import Analysis, AnalysisOptions
from bot.errors import CaptureError


def _child(
    conn: Connection, data: bytes | Path, filename: str, options: AnalysisOptions | None
) -> None:
    try:
        conn.send(("ok", analyse_export(data, filename, options)))
    except CaptureError as exc:
        conn.send(("capture_error", (exc.detail, exc.params)))
    except Exception as exc:  # reported to the parent as a CaptureError, never a crash
        conn.send(("crash", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def _run(
    data: bytes | Path, filename: str, options: AnalysisOptions | None, time_budget_s: float
) -> Analysis:
    options = options or AnalysisOptions()
    if options.max_seconds is None:  # stop reading in time to still report what was read
        options = dataclasses.replace(options, max_seconds=0.8 * time_budget_s)
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(sender, data, filename, options), daemon=True)
    process.start()
    sender.close()
    try:
        if not receiver.poll(time_budget_s):
            raise CaptureError(
                f"{filename}: analysis took longer than {time_budget_s:g} s; stopped",
                reason="timeout",
            )
        try:
            status, payload = receiver.recv()
        except (EOFError, OSError) as exc:
            raise CaptureError(f"{filename}: the analysis process died", reason="crash") from exc
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join(5)
    if status == "ok":
        assert isinstance(payload, Analysis)
        return payload
    if status == "capture_error":
        detail, params = payload
        raise CaptureError(detail, **{k: v for k, v in params.items() if k != "detail"})
    raise CaptureError(f"{filename}: the capture could not be analysed ({payload})", reason="crash")


async def analyse_in_worker(
    data: bytes | Path,
    filename: str,
    options: AnalysisOptions | None = None,
    time_budget_s: float = 120.0,
) -> Analysis:
    """``analyse_export`` in a killable process; ``CaptureError`` if it exceeds the budget."""
    return await asyncio.to_thread(_run, data, filename, options, time_budget_s)
