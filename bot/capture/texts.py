"""Pure functions rendering a capture analysis in English or Japanese (texts in
``bot.texts.capture``), marked up for where it is shown (``bot.capture.markup``).

Slack mrkdwn unless told otherwise; everything taken from the capture is escaped for the medium
(``&``, ``<``, ``>`` in mrkdwn; control characters everywhere).
"""

from __future__ import annotations

import time
from typing import Any

from bot.capture.markup import MRKDWN, Markup, mrkdwn_escape
from bot.capture.model import Analysis, Reason
from bot.i18n import MESSAGES, t


def escape(text: object) -> str:
    """Make text from outside safe inside mrkdwn (see ``markup.mrkdwn_escape``)."""
    return mrkdwn_escape(str(text))


def text(key: str, lang: str, markup: Markup = MRKDWN, **params: Any) -> str:
    """One message in ``lang`` (English if unknown), parameters escaped for ``markup``."""
    return t(lang, f"capture.{key}", **{k: markup.escape(v) for k, v in params.items()})


def reason_text(reason: Reason, lang: str, markup: Markup = MRKDWN) -> str:
    key = f"reason.{reason.code}"
    if f"capture.{key}" not in MESSAGES:
        return markup.escape(reason.code)
    try:
        return text(key, lang, markup, **reason.data)
    except (KeyError, IndexError, ValueError):
        return markup.escape(reason.code)


def utc_time(ts: float | None) -> str:
    """Epoch seconds as UTC date and time, or the number for a time no calendar can show."""
    if ts is None:
        return "-"
    try:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts)) + "Z"
    except (OverflowError, OSError, ValueError):
        return f"{ts:.0f}"


def summary_text(analysis: Analysis, lang: str = "en", markup: Markup = MRKDWN) -> str:
    """The capture summary as lines in ``markup`` (Slack mrkdwn by default)."""
    s = analysis.summary
    lines = [
        text(
            "summary.head",
            lang,
            markup,
            title=markup.bold(text("summary.title", lang)),
            files=markup.code(", ".join(s.files)),
            packets=f"{s.packets:,}",
            bytes=f"{s.bytes:,}",
            duration=f"{s.duration_s:.1f}",
            first=utc_time(s.first_ts),
            last=utc_time(s.last_ts),
        ),
        text(
            "summary.protocols",
            lang,
            markup,
            **s.network,
            tcp=s.transport.get("tcp", 0),
            udp=s.transport.get("udp", 0),
            icmp=s.transport.get("icmp", 0),
        ),
    ]
    if s.top_talkers:
        items = ", ".join(f"{t.address} ({t.packets:,})" for t in s.top_talkers[:5])
        lines.append(text("summary.talkers", lang, markup, items=items))
    if s.top_conversations:
        items = ", ".join(f"{c.a} ↔ {c.b} ({c.packets:,})" for c in s.top_conversations[:5])
        lines.append(text("summary.conversations", lang, markup, items=items))
    if s.vlans:
        items = ", ".join(f"{vid} ({count:,})" for vid, count in list(s.vlans.items())[:10])
        lines.append(text("summary.vlans", lang, markup, items=items))
    if s.truncated_packets:
        lines.append(text("summary.truncated", lang, markup, count=f"{s.truncated_packets:,}"))
    if s.approximate:
        lines.append(text("summary.approximate", lang, markup))
    return "\n".join(lines)


def verdict_text(analysis: Analysis, lang: str = "en", markup: Markup = MRKDWN) -> str:
    """The verdict and its reasons as lines in ``markup`` (a bulleted list)."""
    verdict = analysis.verdict.value
    head = f"{markup.icon(verdict)} {markup.bold(text(f'verdict.{verdict}', lang))}"
    if f"capture.advice.{verdict}" in MESSAGES:
        head += " " + text(f"advice.{verdict}", lang)
    lines = [head]
    lines += [f"• {reason_text(reason, lang, markup)}" for reason in analysis.reasons]
    examples = analysis.summary.one_sided_examples
    if verdict == "one_direction" and examples:
        items = ", ".join(f"{e.src} → {e.dst} ({e.packets})" for e in examples[:3])
        lines.append(f"• {text('summary.examples', lang, markup, items=items)}")
    return "\n".join(lines)
