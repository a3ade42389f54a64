"""Why a detection log export cannot be read; each reason has its own translated message."""

from __future__ import annotations

from bot.errors import DdiBotError


class DetectionExportError(DdiBotError):
    """A detection log export could not be read (corrupt, hostile or not an export at all)."""

    key = "detections.error"


class EmptyDetectionExport(DetectionExportError):
    """The file holds nothing: no bytes, or only a byte order mark and blank lines."""

    key = "detections.error.empty"


class BinaryDetectionExport(DetectionExportError):
    """The file is binary data (an image, an archive...), not text."""

    key = "detections.error.binary"


class NoDetectionHeader(DetectionExportError):
    """No line near the top names a detection time or severity column.

    ``detail`` is the file's first non-blank line (shortened), so the person sees what was sent.
    """

    key = "detections.error.no_header"


class DetectionRowTooLarge(DetectionExportError):
    """One row is far larger than any real export row; ``detail`` is its line number."""

    key = "detections.error.too_large"
