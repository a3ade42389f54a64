"""Runbook step 2: read an uploaded DDI detection log export and say what it holds."""

from bot.detections.errors import (
    BinaryDetectionExport,
    DetectionExportError,
    DetectionRowTooLarge,
    EmptyDetectionExport,
    NoDetectionHeader,
)
from bot.detections.export import parse_detection_export
from bot.detections.model import DetectionSummary, Role, Severity
from bot.detections.render import render_summary

__all__ = [
    "BinaryDetectionExport",
    "DetectionExportError",
    "DetectionRowTooLarge",
    "DetectionSummary",
    "EmptyDetectionExport",
    "NoDetectionHeader",
    "Role",
    "Severity",
    "parse_detection_export",
    "render_summary",
]
