"""A PNG chart of an analysis: packets per second over time and the protocol mix (headless)."""

from __future__ import annotations

import io

from bot.capture.model import Analysis


def render_chart(analysis: Analysis) -> bytes:
    """PNG bytes: packets/s over the capture (top) and protocol mix (bottom)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    s = analysis.summary
    figure = Figure(figsize=(8, 4.5), dpi=100)
    rate_axes, mix_axes = figure.subplots(2, 1, height_ratios=(3, 1))
    width = s.bucket_s
    xs = [i * width for i in range(len(s.timeline))]
    rates = [count / width for count in s.timeline]
    if rates:
        rate_axes.fill_between(xs, rates, step="post", alpha=0.35, color="tab:blue")
        rate_axes.step(xs, rates, where="post", color="tab:blue", linewidth=1)
    rate_axes.set_xlim(0, max(len(xs) * width, 1.0))
    rate_axes.set_ylim(bottom=0)
    rate_axes.set_xlabel("seconds since first packet")
    rate_axes.set_ylabel("packets/s")
    rate_axes.set_title(
        f"{s.packets:,} packets, {s.duration_s:.1f} s — verdict: {analysis.verdict.value}",
        fontsize=10,
    )
    rate_axes.grid(alpha=0.3)
    mix = {
        "TCP": s.transport.get("tcp", 0),
        "UDP": s.transport.get("udp", 0),
        "ICMP": s.transport.get("icmp", 0),
        "ARP": s.network.get("arp", 0),
    }
    mix["other"] = max(s.packets - sum(mix.values()), 0)
    left = 0
    colours = ("tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:gray")
    for (label, count), colour in zip(mix.items(), colours, strict=True):
        if count:
            mix_axes.barh(0, count, left=left, color=colour, label=f"{label} {count:,}")
            left += count
    mix_axes.set_xlim(0, max(s.packets, 1))
    mix_axes.set_yticks([])
    mix_axes.set_xlabel("protocol mix (packets)")
    if left:
        mix_axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.6), ncol=5, fontsize=8)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
