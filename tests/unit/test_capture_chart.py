"""What the PNG chart draws, inspected on the matplotlib figure before it becomes pixels."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.patches import StepPatch

from bot.capture import Analysis, TrafficSummary, Verdict, analyse_export
from bot.capture import chart as chart_module
from bot.capture.chart import chart_figure
from bot.capture.cli import add_parser, run
from bot.i18n import MESSAGES
from bot.simulator.pcapgen import pcap_bytes, traffic

T0 = 1_736_500_000.0
# No Japanese font is needed to check which texts the figure holds; drawing them would only warn.
pytestmark = pytest.mark.filterwarnings("ignore:Glyph .* missing from font")


@pytest.fixture
def japanese(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chart_module, "_cjk_font", lambda: "DejaVu Sans")


def _steps(axes: Axes) -> list[StepPatch]:
    return [patch for patch in axes.patches if isinstance(patch, StepPatch)]


@pytest.mark.parametrize(
    ("start", "end", "width"),
    [(T0 + 0.3, T0 + 30.7, 1.0), (T0 + 17.5, T0 + 20_017.5, 32.0)],
)
def test_every_bucket_is_drawn_equally_wide(start: float, end: float, width: float) -> None:
    analysis = analyse_export(pcap_bytes(traffic(start, end, 40, seed=3)), "eth1.pcap")
    s = analysis.summary
    assert s.bucket_s == width
    axes = chart_figure(analysis).axes[0]
    steps = _steps(axes)
    assert len(steps) == 2  # the filled area and its outline, the same stairs
    for step in steps:
        values, edges, _ = step.get_data()
        assert len(values) == len(s.timeline) and len(edges) == len(values) + 1
        assert np.allclose(np.diff(edges), width)  # the last one included
        assert np.allclose(values * width, s.timeline)  # every packet drawn, as a rate
        assert s.timeline_start is not None and s.first_ts is not None and s.last_ts is not None
        assert edges[0] == 0 <= s.first_ts - s.timeline_start < edges[1]  # in the first bucket
        assert edges[-2] <= s.last_ts - s.timeline_start < edges[-1]  # the last in the last one
    assert axes.get_xlim() == (edges[0], edges[-1])  # no bucket cut off, no empty margin
    origin = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(s.timeline_start))
    assert axes.get_xlabel() == f"seconds since {origin}Z"


@pytest.mark.usefixtures("japanese")
@pytest.mark.parametrize(
    ("lang", "title"),
    [
        ("en", "54 packets, 29.4 s — verdict: receiving"),
        ("ja", "54 パケット、29.4 秒 — 判定: 受信あり"),
    ],
)
def test_the_title_is_in_the_language_asked_for(lang: str, title: str) -> None:
    analysis = analyse_export(pcap_bytes(traffic(T0, T0 + 30, 3, seed=1)), "eth1.pcap")
    figure = chart_figure(analysis, lang=lang)
    assert figure.axes[0].get_title() == title
    start = "2025-01-10 09:06:40Z"
    assert figure.axes[0].get_xlabel() == MESSAGES["capture.chart.x"][lang].format(start=start)


def test_every_verdict_has_a_chart_label_in_both_languages() -> None:
    for verdict in Verdict:
        entry = MESSAGES[f"capture.chart.verdict.{verdict.value}"]
        assert "_" not in entry["en"]  # words, not the verdict's code
        assert entry["ja"] != entry["en"]


@pytest.mark.usefixtures("japanese")
@pytest.mark.parametrize(
    ("lang", "message"),
    [("en", "No packets in this capture"), ("ja", "このキャプチャにはパケットがありません")],
)
def test_a_capture_without_packets_is_a_picture_saying_so(lang: str, message: str) -> None:
    figure = chart_figure(analyse_export(pcap_bytes([]), "empty.pcap"), lang=lang)
    (axes,) = figure.axes
    assert not axes.axison and not axes.patches and not axes.lines  # no empty axes
    texts = [text.get_text() for text in axes.texts]
    assert texts == [message, MESSAGES["capture.advice.no_packets"][lang]]


def test_packets_without_usable_times_say_there_is_no_rate() -> None:
    network = {"ipv4": 3, "ipv6": 0, "arp": 0, "other": 0}
    summary = TrafficSummary(("eth1.pcap",), 3, 180, None, None, network=network)
    analysis = Analysis(summary, Verdict.TOO_LITTLE, ())
    rate_axes, _ = chart_figure(analysis, lang="en").axes
    assert not _steps(rate_axes)
    texts = [text.get_text() for text in rate_axes.texts]
    assert texts == ["No usable timestamps: no rate to draw"]


def test_the_command_draws_the_chart_in_its_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asked: list[str] = []

    def render(analysis: Analysis, *, lang: str = "en") -> bytes:
        asked.append(lang)
        return b"png"

    monkeypatch.setattr(chart_module, "render_chart", render)
    capture = tmp_path / "eth1.pcap"
    capture.write_bytes(pcap_bytes(traffic(T0, T0 + 30, 3, seed=1)))
    parser = argparse.ArgumentParser(prog="ddi-bot")
    add_parser(parser.add_subparsers(dest="command"))
    chart = tmp_path / "out.png"
    args = ["analyze-pcap", str(capture), "--lang", "ja", "--chart", str(chart)]
    assert run(parser.parse_args(args)) == 0
    assert asked == ["ja"] and chart.read_bytes() == b"png"
