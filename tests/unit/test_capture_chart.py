"""What the PNG chart draws, inspected on the matplotlib figure before it becomes pixels."""

from __future__ import annotations

import time

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.patches import StepPatch

from bot.capture import analyse_export
from bot.capture.chart import chart_figure
from bot.simulator.pcapgen import pcap_bytes, traffic

T0 = 1_736_500_000.0


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
