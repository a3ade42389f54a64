"""Labels taken from an export: severity normalisation and a counter that cannot grow forever."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from bot.detections.columns import normalise
from bot.detections.model import Counts, Severity

MAX_LABELS = 1000  # distinct labels kept per breakdown; a hostile file cannot grow memory
MAX_LABEL_CHARS = 200

_SEVERITIES: dict[str, Severity] = {
    normalise(name): severity
    for severity, names in {
        Severity.HIGH: ("High", "High Risk", "高", "高い", "高リスク"),
        Severity.MEDIUM: ("Medium", "Med", "Middle", "Medium Risk", "中", "中程度", "中リスク"),
        Severity.LOW: ("Low", "Low Risk", "低", "低い", "低リスク"),
        Severity.INFORMATIONAL: (
            "Informational", "Information", "Info", "情報", "情報提供", "参考情報",
        ),
    }.items()
    for name in names
}  # fmt: skip


def clean_label(raw: str) -> str:
    """One line, NFKC, trimmed, bounded: what a label from the file is counted and shown as."""
    text = " ".join(unicodedata.normalize("NFKC", raw[: MAX_LABEL_CHARS * 4]).split())
    if len(text) > MAX_LABEL_CHARS:
        text = text[: MAX_LABEL_CHARS - 1] + "…"
    return text


def severity_label(raw: str) -> str:
    """A recognised severity in either language becomes the console's English name.

    Labels we do not recognise (numeric CEF severities, "Critical"...) are kept as they are.
    """
    text = clean_label(raw)
    found = _SEVERITIES.get(normalise(text))
    return found.value if found is not None else text


class CachedLabels:
    """Remembers what raw cells became: exports repeat a handful of labels millions of times."""

    def __init__(self, convert: Callable[[str], str], limit: int = 4096) -> None:
        self.convert = convert
        self.limit = limit
        self.cache: dict[str, str] = {}

    def __call__(self, raw: str) -> str:
        label = self.cache.get(raw)
        if label is None:
            label = self.convert(raw)
            if len(self.cache) < self.limit and len(raw) <= MAX_LABEL_CHARS:
                self.cache[raw] = label
        return label


class BoundedCounter:
    """Counts labels, keeping at most ``limit`` distinct ones; the rest only add to ``overflow``."""

    def __init__(self, limit: int = MAX_LABELS) -> None:
        self.limit = limit
        self.counts: dict[str, int] = {}
        self.overflow = 0

    def add(self, label: str) -> None:
        if label in self.counts:
            self.counts[label] += 1
        elif len(self.counts) < self.limit:
            self.counts[label] = 1
        else:
            self.overflow += 1

    def most_common(self) -> Counts:
        """Largest count first; equal counts by label, so the order is stable."""
        return tuple(sorted(self.counts.items(), key=lambda item: (-item[1], item[0])))
