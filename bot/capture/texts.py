"""Pure functions rendering a capture analysis in English or Japanese (texts in
``bot.texts.capture``).

Output is Slack mrkdwn; everything taken from the capture is escaped (``&``, ``<``, ``>``).
"""

from __future__ import annotations

import re
import time
from typing import Any

from bot.capture.model import Analysis, Reason
from bot.i18n import MESSAGES, t


def escape(text: object) -> str:
    """Make text from outside safe inside mrkdwn: no links, mentions or entities, and no
    backtick or control character to leave a code span or start a line of its own."""
    flat = _UNSAFE.sub("?", str(text))
    return flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_UNSAFE = re.compile(r"[\x00-\x1f\x7f`]")


def text(key: str, lang: str, **params: Any) -> str:
    """One message in ``lang`` (English if unknown), parameters escaped."""
    return t(lang, f"capture.{key}", **{k: escape(v) for k, v in params.items()})


def reason_text(reason: Reason, lang: str) -> str:
    key = f"reason.{reason.code}"
    if f"capture.{key}" not in MESSAGES:
        return escape(reason.code)
    try:
        return text(key, lang, **reason.data)
    except (KeyError, IndexError, ValueError):
        return escape(reason.code)


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    try:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts)) + "Z"
    except (OverflowError, OSError, ValueError):
        return f"{ts:.0f}"


def summary_text(analysis: Analysis, lang: str = "en") -> str:
    """The capture summary as mrkdwn lines."""
    s = analysis.summary
    lines = [
        text(
            "summary.head",
            lang,
            files=", ".join(s.files),
            packets=f"{s.packets:,}",
            bytes=f"{s.bytes:,}",
            duration=f"{s.duration_s:.1f}",
            first=_when(s.first_ts),
            last=_when(s.last_ts),
        ),
        text(
            "summary.protocols",
            lang,
            **s.network,
            tcp=s.transport.get("tcp", 0),
            udp=s.transport.get("udp", 0),
            icmp=s.transport.get("icmp", 0),
        ),
    ]
    if s.top_talkers:
        items = ", ".join(f"{t.address} ({t.packets:,})" for t in s.top_talkers[:5])
        lines.append(text("summary.talkers", lang, items=items))
    if s.top_conversations:
        items = ", ".join(f"{c.a} ↔ {c.b} ({c.packets:,})" for c in s.top_conversations[:5])
        lines.append(text("summary.conversations", lang, items=items))
    if s.vlans:
        items = ", ".join(f"{vid} ({count:,})" for vid, count in list(s.vlans.items())[:10])
        lines.append(text("summary.vlans", lang, items=items))
    if s.truncated_packets:
        lines.append(text("summary.truncated", lang, count=f"{s.truncated_packets:,}"))
    if s.approximate:
        lines.append(text("summary.approximate", lang))
    return "\n".join(lines)


def verdict_text(analysis: Analysis, lang: str = "en") -> str:
    """The verdict and its reasons as mrkdwn (a bulleted list)."""
    lines = [text(f"verdict.{analysis.verdict.value}", lang)]
    lines += [f"• {reason_text(reason, lang)}" for reason in analysis.reasons]
    examples = analysis.summary.one_sided_examples
    if analysis.verdict.value == "one_direction" and examples:
        items = ", ".join(f"{e.src} → {e.dst} ({e.packets})" for e in examples[:3])
        lines.append(f"• {text('summary.examples', lang, items=items)}")
    return "\n".join(lines)
