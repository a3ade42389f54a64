"""A PNG chart of an analysis: packets per second over time and the protocol mix (headless)."""

from __future__ import annotations

import functools
import io
from typing import TYPE_CHECKING, Any

from bot.capture.model import Analysis, TrafficSummary
from bot.capture.texts import utc_time
from bot.i18n import t

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# Fonts with Japanese glyphs, in order of preference; without one, the chart stays in English
# rather than showing empty boxes.
_CJK_FONTS = (
    "Noto Sans CJK JP",
    "Noto Sans JP",
    "IPAexGothic",
    "IPAGothic",
    "TakaoGothic",
    "VL Gothic",
    "Hiragino Sans",
    "Yu Gothic",
    "MS Gothic",
)
_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:gray")


@functools.cache
def _cjk_font() -> str | None:
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in _CJK_FONTS if name in installed), None)


def _language(lang: str) -> tuple[str, str | None]:
    """The language the chart's labels are drawn in and the font family that draws them:
    ``lang`` if it is Japanese and a font can show it, else English."""
    if lang == "ja":
        font = _cjk_font()
        if font is not None:
            return "ja", font
    return "en", None


def render_chart(analysis: Analysis, *, lang: str = "en") -> bytes:
    """PNG bytes of ``chart_figure``."""
    out = io.BytesIO()
    chart_figure(analysis, lang=lang).savefig(out, format="png")
    return out.getvalue()


def chart_figure(analysis: Analysis, *, lang: str = "en") -> Figure:
    """Packets/s over the capture (top) and protocol mix (bottom); a capture without packets is
    a picture saying so.

    Labels in ``lang`` ("en" or "ja"); Japanese needs a Japanese font installed (Noto Sans CJK,
    IPA, ...), without one the labels stay English.
    """
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    lang, family = _language(lang)
    font: dict[str, Any] = {"fontfamily": family} if family else {}
    figure = Figure(figsize=(8, 4.5), dpi=100)
    s = analysis.summary
    if s.packets == 0:
        axes = figure.subplots()
        axes.set_axis_off()
        axes.text(0.5, 0.55, t(lang, "capture.chart.empty"), ha="center", fontsize=18, **font)
        advice = t(lang, "capture.advice.no_packets")
        axes.text(0.5, 0.4, advice, ha="center", fontsize=11, color="dimgray", **font)
        return figure
    rate_axes, mix_axes = figure.subplots(2, 1, height_ratios=(3, 1))
    _rates(rate_axes, s, lang, font)
    verdict = analysis.verdict.value
    title = t(
        lang,
        "capture.chart.title",
        packets=f"{s.packets:,}",
        duration=f"{s.duration_s:.1f}",
        verdict=t(lang, f"capture.chart.verdict.{verdict}"),
    )
    rate_axes.set_title(title, fontsize=10, **font)
    _mix(mix_axes, s, lang, font)
    figure.tight_layout()
    return figure


def _rates(axes: Axes, s: TrafficSummary, lang: str, font: dict[str, Any]) -> None:
    """Packets/s per bucket, every bucket as wide as the others, in seconds since the first
    bucket starts (a round time at or before the first packet; the last ends at or after)."""
    axes.set_ylabel(t(lang, "capture.chart.y"), **font)
    axes.grid(alpha=0.3)
    width = s.bucket_s
    if not s.timeline or s.timeline_start is None:
        message = t(lang, "capture.chart.no_times")
        axes.text(0.5, 0.5, message, ha="center", transform=axes.transAxes, **font)
        axes.set_xticks([])
        axes.set_yticks([])
        return
    axes.set_xlabel(t(lang, "capture.chart.x", start=utc_time(s.timeline_start)), **font)
    edges = [i * width for i in range(len(s.timeline) + 1)]
    rates = [count / width for count in s.timeline]
    axes.stairs(rates, edges, fill=True, alpha=0.35, color="tab:blue")
    axes.stairs(rates, edges, color="tab:blue", linewidth=1)
    axes.set_xlim(edges[0], edges[-1])
    axes.set_ylim(bottom=0)


def _mix(axes: Axes, s: TrafficSummary, lang: str, font: dict[str, Any]) -> None:
    mix = {
        "TCP": s.transport.get("tcp", 0),
        "UDP": s.transport.get("udp", 0),
        "ICMP": s.transport.get("icmp", 0),
        "ARP": s.network.get("arp", 0),
    }
    mix[t(lang, "capture.chart.other")] = max(s.packets - sum(mix.values()), 0)
    left = 0
    for (label, count), colour in zip(mix.items(), _COLOURS, strict=True):
        if count:
            axes.barh(0, count, left=left, color=colour, label=f"{label} {count:,}")
            left += count
    axes.set_xlim(0, max(s.packets, 1))
    axes.set_yticks([])
    axes.set_xlabel(t(lang, "capture.chart.mix"), **font)
    if left:
        legend_font = {"size": 8, **({"family": font["fontfamily"]} if font else {})}
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.6), ncol=5, prop=legend_font)
