"""Run a capture analysis (and its chart) in a separate process with a hard time budget.

A process (not a thread) so that a runaway parse can be killed and so that neither the parse nor
matplotlib holds the event loop's GIL. Nothing of the event loop's process (threads, sockets) is
inherited: the processes are forked by a ``forkserver``, a fresh interpreter started on first use
that has imported the analyser and matplotlib once, so that each analysis starts in milliseconds
instead of paying ~1 s of imports (where there is no ``forkserver``, e.g. on Windows: ``spawn``).

The event loop does not lend a thread to the wait: it watches the pipe and the process's
sentinel with ``add_reader`` (a thread of the default executor is borrowed only for the moment
``Process.start`` takes). Event loops without ``add_reader`` (the Windows proactor) wait in a
thread instead, as before.

The child sends up to two messages: the analysis (or its error), then, when asked for, the chart
(or why it could not be drawn). So a chart that fails, crashes the child or runs out of time never
costs the analysis: ``analyse_with_chart_in_worker`` then returns ``FALLBACK_CHART``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import multiprocessing
import struct
import zlib
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as wait_any
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.capture.analyse import analyse_export
from bot.capture.model import Analysis, AnalysisOptions
from bot.errors import CaptureError

if TYPE_CHECKING:  # ForkServerContext does not exist on Windows
    from multiprocessing.context import ForkServerContext, SpawnContext

log = logging.getLogger(__name__)

# Imported once by the fork server, so that every child starts with them loaded.
_PRELOAD = [
    "bot.capture.worker",
    "bot.capture.chart",
    "matplotlib.figure",
    "matplotlib.backends.backend_agg",
]


@functools.cache
def _context() -> ForkServerContext | SpawnContext:
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)  # no effect if a fork server already runs
    return context


def _png(width: int, height: int, grey: int) -> bytes:
    """A plain greyscale PNG, written by hand: the fallback must not need matplotlib."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack("!I", len(body)) + kind + body + struct.pack("!I", crc)

    rows = b"".join(b"\x00" + bytes([grey]) * width for _ in range(height))
    header = struct.pack("!IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


FALLBACK_CHART = _png(160, 90, 0xEE)
"""What ``analyse_with_chart_in_worker`` returns as the chart when none could be drawn: a small
light-grey PNG (compare with ``==`` to skip posting it)."""


def _child(
    conn: Connection,
    data: bytes | Path,
    filename: str,
    options: AnalysisOptions | None,
    chart_lang: str | None = None,
) -> None:
    try:
        try:
            analysis = analyse_export(data, filename, options)
        except CaptureError as exc:
            conn.send(("capture_error", (exc.detail, exc.params)))
            return
        except Exception as exc:  # reported to the parent as a CaptureError, never a crash
            conn.send(("crash", f"{type(exc).__name__}: {exc}"))
            return
        conn.send(("ok", analysis))  # first, so that the chart cannot cost the analysis
        if chart_lang is not None:
            try:
                from bot.capture.chart import render_chart

                conn.send(("chart", render_chart(analysis, lang=chart_lang)))
            except Exception as exc:
                conn.send(("chart_error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


async def _readable(fd: int, within_s: float) -> bool:
    """Whether ``fd`` becomes readable (data, EOF or a dead process's sentinel) in time."""
    loop = asyncio.get_running_loop()
    ready = loop.create_future()

    def on_ready() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(fd, on_ready)  # NotImplementedError without a selector: caller falls back
    try:
        await asyncio.wait_for(ready, max(within_s, 0.0))
        return True
    except TimeoutError:
        return False
    finally:
        loop.remove_reader(fd)


async def _wait(ready: Connection | int, within_s: float) -> bool:
    """Wait for a connection's data or a process's sentinel without tying up a thread."""
    fd = ready if isinstance(ready, int) else ready.fileno()
    if wait_any([ready], 0):
        return True
    try:
        return await _readable(fd, within_s)
    except NotImplementedError:  # e.g. the Windows proactor loop: wait in a thread
        return bool(await asyncio.to_thread(wait_any, [ready], within_s))


async def _start(process: BaseProcess, sender: Connection) -> None:
    """``Process.start`` in a thread (it starts the fork server the first time, and writes the
    pickled arguments, the capture bytes included, to the child), then our end of ``sender`` is
    closed there too; if the caller is cancelled meanwhile, the child is killed once started."""

    def start() -> None:
        try:
            process.start()
        finally:
            sender.close()  # only once the child has its copy

    started = asyncio.ensure_future(asyncio.to_thread(start))
    try:
        await asyncio.shield(started)
    except asyncio.CancelledError:
        started.add_done_callback(lambda _: _kill(process))
        raise


def _kill(process: BaseProcess) -> None:
    with contextlib.suppress(ValueError, AssertionError, OSError):  # not started or gone
        if process.is_alive():
            process.kill()


async def _reap(process: BaseProcess) -> None:
    """Kill the child if it still runs and collect it, without blocking the loop."""
    _kill(process)
    with contextlib.suppress(ValueError, AssertionError, OSError):
        if await _wait(process.sentinel, 5.0):
            process.join(1)  # gone: returns at once (the sentinel closes just before the reap)


async def _run_child(
    data: bytes | Path,
    filename: str,
    options: AnalysisOptions | None,
    time_budget_s: float,
    chart_lang: str | None,
) -> tuple[Analysis, bytes | None]:
    """The analysis and, if ``chart_lang`` is given, the chart (``None`` if it failed)."""
    options = options or AnalysisOptions()
    if options.max_seconds is None:  # stop reading in time to still report what was read
        options = dataclasses.replace(options, max_seconds=0.8 * time_budget_s)
    context = _context()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_child, args=(sender, data, filename, options, chart_lang), daemon=True
    )
    loop = asyncio.get_running_loop()
    try:
        await _start(process, sender)
        deadline = loop.time() + time_budget_s
        if not await _wait(receiver, time_budget_s):
            raise CaptureError(
                f"{filename}: analysis took longer than {time_budget_s:g} s; stopped",
                reason="timeout",
            )
        try:
            status, payload = receiver.recv()
        except (EOFError, OSError) as exc:
            raise CaptureError(f"{filename}: the analysis process died", reason="crash") from exc
        analysis = _analysis(filename, status, payload)
        if chart_lang is None:
            return analysis, None
        return analysis, await _chart(receiver, filename, deadline - loop.time())
    finally:
        receiver.close()
        await _reap(process)


def _analysis(filename: str, status: str, payload: Any) -> Analysis:
    if status == "ok":
        assert isinstance(payload, Analysis)
        return payload
    if status == "capture_error":
        detail, params = payload
        raise CaptureError(detail, **{k: v for k, v in params.items() if k != "detail"})
    raise CaptureError(f"{filename}: the capture could not be analysed ({payload})", reason="crash")


async def _chart(receiver: Connection, filename: str, remaining_s: float) -> bytes | None:
    """The chart the child sends after the analysis; ``None`` (and a warning) if there is none."""
    why: str
    if not await _wait(receiver, remaining_s):
        why = "the time budget ran out"
    else:
        try:
            status, payload = receiver.recv()
        except (EOFError, OSError):
            why = "the process died"
        else:
            if status == "chart" and isinstance(payload, bytes):
                return payload
            why = str(payload)
    log.warning("%s: no chart (%s); returning the placeholder", filename, why)
    return None


async def analyse_in_worker(
    data: bytes | Path,
    filename: str,
    options: AnalysisOptions | None = None,
    time_budget_s: float = 120.0,
) -> Analysis:
    """``analyse_export`` in a killable process; ``CaptureError`` if it exceeds the budget."""
    analysis, _ = await _run_child(data, filename, options, time_budget_s, None)
    return analysis


async def analyse_with_chart_in_worker(
    data: bytes | Path,
    filename: str,
    options: AnalysisOptions | None = None,
    time_budget_s: float = 120.0,
    lang: str = "en",
) -> tuple[Analysis, bytes]:
    """``analyse_export`` and ``render_chart`` (in ``lang``) in one killable process.

    Errors of the analysis are those of ``analyse_in_worker`` (``CaptureError``: the capture's
    own, or reason ``timeout`` / ``crash``); the time budget covers both. If only the chart fails
    (an exception, the child dying, or the budget running out after the analysis arrived), the
    analysis is still returned, with ``FALLBACK_CHART`` as the chart and a warning logged.
    """
    analysis, chart = await _run_child(data, filename, options, time_budget_s, lang)
    return analysis, FALLBACK_CHART if chart is None else chart
