"""Analysis and chart together in the worker process: same analysis, a PNG, the same errors."""

from __future__ import annotations

import asyncio
import io
import multiprocessing
import os
import time
from pathlib import Path

import pytest
from capture_files import zipped
from PIL import Image

from bot.capture import (
    FALLBACK_CHART,
    Verdict,
    analyse_export,
    analyse_in_worker,
    analyse_with_chart_in_worker,
    render_chart,
    worker,
)
from bot.capture import chart as chart_module
from bot.errors import CaptureError
from bot.i18n import MESSAGES
from bot.simulator.pcapgen import pcap_bytes, traffic

T0 = 1_736_500_000.0
PNG = b"\x89PNG\r\n\x1a\n"


def export(rounds: int = 2) -> bytes:
    """A console-style export: a zip holding one pcap of mirrored traffic."""
    return zipped({"eth1.pcap": pcap_bytes(traffic(T0, T0 + 10, rounds, seed=5))})


async def test_returns_the_analysis_of_analyse_in_worker_and_a_png() -> None:
    data = export()
    analysis, chart = await analyse_with_chart_in_worker(data, "capture.zip", time_budget_s=60)
    assert chart.startswith(PNG) and chart != FALLBACK_CHART
    assert analysis == await analyse_in_worker(data, "capture.zip", time_budget_s=60)
    assert analysis.verdict is Verdict.RECEIVING and analysis.summary.packets == 36


async def test_a_file_on_disk_and_japanese(tmp_path: Path) -> None:
    path = tmp_path / "capture.zip"
    path.write_bytes(export())
    analysis, chart = await analyse_with_chart_in_worker(path, path.name, None, 60, lang="ja")
    assert analysis == analyse_export(export(), "capture.zip") and chart.startswith(PNG)


@pytest.mark.parametrize(
    ("data", "filename", "match"),
    [
        (b"garbage" * 100, "x.bin", "not a pcap"),
        (zipped({"eth1.pcap": b"garbage" * 100}), "capture.zip", "not a pcap"),
    ],
)
async def test_a_file_that_cannot_be_parsed_raises(data: bytes, filename: str, match: str) -> None:
    with pytest.raises(CaptureError, match=match) as caught:
        await analyse_with_chart_in_worker(data, filename, time_budget_s=60)
    assert caught.value.params["reason"] == "garbage"  # the analyser's own error, passed through


async def test_the_time_budget_is_enforced() -> None:
    with pytest.raises(CaptureError, match="longer than") as caught:
        await analyse_with_chart_in_worker(export(), "capture.zip", time_budget_s=0.001)
    assert caught.value.params["reason"] == "timeout"


async def test_waits_in_a_thread_where_the_loop_cannot_watch_pipes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def no_add_reader(fd: int, within_s: float) -> bool:
        raise NotImplementedError  # what the Windows proactor loop says

    monkeypatch.setattr(worker, "_readable", no_add_reader)
    analysis, chart = await analyse_with_chart_in_worker(export(), "capture.zip", time_budget_s=60)
    assert analysis.summary.packets == 36 and chart.startswith(PNG)
    with pytest.raises(CaptureError, match="longer than"):
        await analyse_with_chart_in_worker(export(), "capture.zip", time_budget_s=0.001)


# A chart that fails inside the child: the child must see the patched render_chart, so these
# tests fork the test process instead of using the fork server.


@pytest.fixture
def forked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker, "_context", lambda: multiprocessing.get_context("fork"))


def _raise(*args: object, **kwargs: object) -> bytes:
    raise RuntimeError("no font")


def _die(*args: object, **kwargs: object) -> bytes:
    os._exit(3)


def _hang(*args: object, **kwargs: object) -> bytes:
    time.sleep(600)
    return b""


@pytest.mark.parametrize("render", [_raise, _die])
@pytest.mark.usefixtures("forked")
async def test_a_failed_chart_keeps_the_analysis(
    monkeypatch: pytest.MonkeyPatch, render: object, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(chart_module, "render_chart", render)
    analysis, chart = await analyse_with_chart_in_worker(export(), "capture.zip", time_budget_s=60)
    assert analysis == analyse_export(export(), "capture.zip")
    assert chart == FALLBACK_CHART
    assert "no chart" in caplog.text


@pytest.mark.usefixtures("forked")
async def test_a_chart_beyond_the_budget_keeps_the_analysis(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(chart_module, "render_chart", _hang)
    analysis, chart = await analyse_with_chart_in_worker(export(), "capture.zip", time_budget_s=2)
    assert analysis.summary.packets == 36 and chart == FALLBACK_CHART
    assert not multiprocessing.active_children()  # the hanging child was killed


@pytest.mark.usefixtures("forked")
async def test_cancelling_kills_the_child(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chart_module, "render_chart", _hang)
    task = asyncio.create_task(analyse_with_chart_in_worker(export(), "capture.zip"))
    for _ in range(6000):  # until the child runs (it then hangs in the chart)
        if multiprocessing.active_children():
            break
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not multiprocessing.active_children()


def test_the_fallback_chart_is_a_png() -> None:
    assert FALLBACK_CHART.startswith(PNG)
    with Image.open(io.BytesIO(FALLBACK_CHART)) as image:
        assert image.size == (160, 90)


def test_chart_labels_follow_the_language_when_a_font_can_show_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert all(f"capture.chart.verdict.{v.value}" in MESSAGES for v in Verdict)
    monkeypatch.setattr(chart_module, "_cjk_font", lambda: None)
    assert chart_module._language("ja") == ("en", None)  # no empty boxes: English instead
    monkeypatch.setattr(chart_module, "_cjk_font", lambda: "Noto Sans CJK JP")
    assert chart_module._language("ja") == ("ja", "Noto Sans CJK JP")
    assert chart_module._language("en") == ("en", None)
    assert chart_module._language("fr") == ("en", None)


def test_render_chart_keeps_its_one_argument_form() -> None:
    analysis = analyse_export(export(), "capture.zip")
    assert render_chart(analysis) == render_chart(analysis, lang="en")
    assert render_chart(analysis, lang="ja").startswith(PNG)
