"""The short summary of a capture export: packets, bytes, time span (no verdict).

Kept as the small entry point for callers that only need counts; it runs the same streaming
reader as the full analysis (``bot.capture.analyse``).
"""

from __future__ import annotations

from bot.capture.analyse import analyse_export
from bot.capture.archive import ArchiveLimits
from bot.capture.model import AnalysisOptions, CaptureSummary


def summarise_export(
    data: bytes, filename: str, limits: ArchiveLimits | None = None
) -> CaptureSummary:
    """Count what an export holds; ``CaptureError`` for garbage or hostile input."""
    options = AnalysisOptions(limits=limits or ArchiveLimits())
    return analyse_export(data, filename, options).summary.capture_summary()
