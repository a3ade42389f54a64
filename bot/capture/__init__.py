"""Reading capture exports: safe archive handling and streaming packet counts."""

from bot.capture.archive import ArchiveLimits
from bot.capture.count import CaptureSummary, summarise_export

__all__ = ["ArchiveLimits", "CaptureSummary", "summarise_export"]
