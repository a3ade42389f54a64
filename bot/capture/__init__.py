"""Reading capture exports: safe archive handling, streaming counts and traffic analysis."""

from bot.capture.analyse import analyse_export, analyse_path
from bot.capture.archive import ArchiveLimits
from bot.capture.chart import render_chart
from bot.capture.count import summarise_export
from bot.capture.model import (
    Analysis,
    AnalysisOptions,
    CaptureSummary,
    Reason,
    Thresholds,
    TrafficSummary,
    Verdict,
)
from bot.capture.texts import summary_text, verdict_text
from bot.capture.worker import FALLBACK_CHART, analyse_in_worker, analyse_with_chart_in_worker

__all__ = [
    "FALLBACK_CHART",
    "Analysis",
    "AnalysisOptions",
    "ArchiveLimits",
    "CaptureSummary",
    "Reason",
    "Thresholds",
    "TrafficSummary",
    "Verdict",
    "analyse_export",
    "analyse_in_worker",
    "analyse_path",
    "analyse_with_chart_in_worker",
    "render_chart",
    "summarise_export",
    "summary_text",
    "verdict_text",
]
