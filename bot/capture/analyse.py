"""Analyse a capture export: stream, decode, summarise and decide (synchronous, CPU-bound).

Call it off the event loop: ``analyse_in_worker`` (bot.capture.worker) runs it in a process.
"""

from __future__ import annotations

import time
from pathlib import Path

from bot.capture.archive import capture_name, open_export, sniff
from bot.capture.decode import decode
from bot.capture.halves import accumulate_in_halves
from bot.capture.model import Analysis, AnalysisOptions
from bot.capture.records import Reader
from bot.capture.stats import Accumulator, Sensor
from bot.capture.verdict import decide
from bot.errors import CaptureError


def sensor_of(options: AnalysisOptions) -> Sensor:
    """The sensor's identity; ``CaptureError`` for a malformed address."""
    try:
        return Sensor.parse(options.sensor_ip, options.sensor_mac)
    except ValueError as exc:
        raise CaptureError(f"invalid sensor address: {exc}", reason="options") from exc


def analyse_export(
    data: bytes | Path, filename: str, options: AnalysisOptions | None = None
) -> Analysis:
    """Summarise every capture in an export and decide whether the sensor receives traffic.

    ``data`` is the export's bytes or a path (streamed from disk). Raises ``CaptureError`` for
    garbage, unsupported or hostile exports; damaged captures give a partial summary.
    """
    options = options or AnalysisOptions()
    sensor = sensor_of(options)
    deadline = None if options.max_seconds is None else time.monotonic() + options.max_seconds
    halves = None
    if isinstance(data, Path) and options.processes > 1 and deadline is None:
        halves = _in_halves(data, filename, sensor)
    acc = halves or Accumulator(sensor=sensor)
    files: list[str] = [capture_name(filename)] if halves else []
    reasons: list[str] = []
    for capture in () if halves else open_export(data, filename, options.limits):
        files.append(capture.name)
        reader = Reader(capture)
        for batch in reader.batches():
            acc.add(batch, decode(batch))
            if deadline is not None and time.monotonic() > deadline:
                reasons.append(
                    f"{capture.name}: time budget of {options.max_seconds:g} s used up "
                    f"after {acc.packets} packet(s)"
                )
                break
        else:
            if reader.error:
                reasons.append(f"{capture.name}: {reader.error}")
            continue
        break
    summary = acc.summary(tuple(files), "; ".join(reasons) or None, options.top)
    known = sensor.address is not None or sensor.mac is not None
    verdict, why = decide(summary, options.thresholds, known)
    return Analysis(summary, verdict, why)


def _in_halves(path: Path, filename: str, sensor: Sensor) -> Accumulator | None:
    """A bare pcap or pcapng file's totals read by two processes; ``None``: read it the usual
    way."""
    try:
        with path.open("rb") as handle:
            kind = sniff(handle.read(8))
        if kind not in ("pcap", "pcapng"):
            return None
        return accumulate_in_halves(path, kind, capture_name(filename), lambda: Accumulator(sensor))
    except OSError:
        return None  # the usual way reports it


def analyse_path(path: Path, options: AnalysisOptions | None = None) -> Analysis:
    """``analyse_export`` on a file, streamed (memory does not grow with its size)."""
    return analyse_export(path, path.name, options)
