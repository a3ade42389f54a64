"""Show a detection export summary as Slack mrkdwn, in English or Japanese (pure).

Labels come from the uploaded file: they are shortened and escaped before they are shown.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from bot.detections.model import Counts, DetectionSummary, Severity
from bot.i18n import t
from bot.presenter import Style

TOP = 10  # labels listed per breakdown; the rest are summed up in one line
_LABEL_CHARS = 80
_ENCODINGS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 (BOM)",
    "utf-16": "UTF-16",
    "utf-16-le": "UTF-16LE",
    "utf-16-be": "UTF-16BE",
    "utf-32": "UTF-32",
    "cp932": "Shift_JIS (CP932)",
}
_DELIMITERS = {",": "comma", "\t": "tab", ";": "semicolon"}
_SEVERITIES = {severity.value: severity for severity in Severity}


def _when(value: datetime, tz: tzinfo, seconds: bool = False) -> str:
    local = value.astimezone(tz)
    offset = local.utcoffset()
    zone = "UTC"
    if offset:
        minutes = int(offset.total_seconds()) // 60
        sign = "+" if minutes >= 0 else "-"
        zone += f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return f"{local:%Y-%m-%d %H:%M{':%S' if seconds else ''}} {zone}"


def _label(lang: str, label: str, severity: bool, style: Style) -> str:
    if not label:
        return t(lang, "detections.blank")
    if severity and label in _SEVERITIES:
        return t(lang, f"detections.severity.{_SEVERITIES[label].name.lower()}")
    if len(label) > _LABEL_CHARS:
        label = label[: _LABEL_CHARS - 1] + "…"
    return style.escape(label)


def _breakdown(
    lang: str, title: str, counts: Counts, overflow: int, severity: bool, top: int, style: Style
) -> list[str]:
    if not counts and not overflow:
        return []
    lines = [t(lang, title)]
    lines += [f"• {_label(lang, label, severity, style)}: {count}" for label, count in counts[:top]]
    rest = counts[top:]
    if rest:
        lines.append(t(lang, "detections.more", labels=len(rest), count=sum(c for _, c in rest)))
    if overflow:
        lines.append(t(lang, "detections.overflow", count=overflow))
    return lines


def render_summary(
    lang: str, summary: DetectionSummary, tz: tzinfo = UTC, top: int = TOP, *, style: Style
) -> str:
    """The step 2 message for one uploaded export; times are shown in ``tz``."""
    period = {"start": _when(summary.start, tz), "end": _when(summary.end, tz)}
    if not summary.period_checked:
        lines = [t(lang, "detections.title.unchecked", count=summary.in_period, **period)]
    elif summary.in_period:
        lines = [t(lang, "detections.title.found", count=summary.in_period, **period)]
    else:
        lines = [t(lang, "detections.title.none", **period)]
    lines += _breakdown(
        lang,
        "detections.by_severity",
        summary.by_severity,
        summary.severity_overflow,
        True,
        top,
        style,
    )
    lines += _breakdown(
        lang, "detections.by_type", summary.by_type, summary.type_overflow, False, top, style
    )
    if summary.outside_period:
        lines.append(t(lang, "detections.outside", count=summary.outside_period))
    if summary.unreadable_time:
        lines.append(t(lang, "detections.unreadable", count=summary.unreadable_time))
    if summary.malformed_rows:
        lines.append(t(lang, "detections.malformed", count=summary.malformed_rows))
    if summary.first_seen is not None and summary.last_seen is not None:
        lines.append(
            t(
                lang,
                "detections.span",
                first=_when(summary.first_seen, tz, seconds=True),
                last=_when(summary.last_seen, tz, seconds=True),
            )
        )
    delimiter = _DELIMITERS.get(summary.delimiter)
    lines.append(
        t(
            lang,
            "detections.source",
            rows=summary.total_rows,
            encoding=_ENCODINGS.get(summary.encoding, style.escape(summary.encoding)),
            delimiter=t(lang, f"detections.delimiter.{delimiter}")
            if delimiter
            else repr(summary.delimiter),
        )
    )
    return "\n".join(lines)
