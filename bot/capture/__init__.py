"""Reading capture exports: safe archive handling, streaming counts and traffic analysis.

The chart, the texts and the worker process (matplotlib, i18n, asyncio, multiprocessing) are
imported on first use of their names, so that ``ddi-bot analyze-pcap --json`` starts with only
what the analysis needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from bot.capture.analyse import analyse_export, analyse_path
from bot.capture.archive import ArchiveLimits
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

if TYPE_CHECKING:
    from bot.capture.chart import render_chart
    from bot.capture.texts import summary_text, verdict_text
    from bot.capture.worker import (
        FALLBACK_CHART,
        analyse_in_worker,
        analyse_with_chart_in_worker,
    )

# name -> the module that defines it, imported when the name is first used
_LAZY = {
    "render_chart": "bot.capture.chart",
    "summary_text": "bot.capture.texts",
    "verdict_text": "bot.capture.texts",
    "FALLBACK_CHART": "bot.capture.worker",
    "analyse_in_worker": "bot.capture.worker",
    "analyse_with_chart_in_worker": "bot.capture.worker",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


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
