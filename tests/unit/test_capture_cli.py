"""``analyze-pcap`` command and the PNG chart."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.capture import analyse_export, render_chart
from bot.capture.cli import add_parser, run
from bot.simulator.pcapgen import pcap_bytes, traffic

T0 = 1_736_500_000.0
ROOT = Path(__file__).resolve().parents[2]


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ddi-bot")
    add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["analyze-pcap", *argv])


@pytest.fixture
def capture(tmp_path: Path) -> Path:
    path = tmp_path / "eth1.pcap"
    path.write_bytes(pcap_bytes(traffic(T0, T0 + 30, 3, seed=1)))
    return path


def test_text_output(capture: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(parse(str(capture), "--lang", "ja")) == 0
    out = capsys.readouterr().out
    assert "キャプチャ概要" in out and "受信しています" in out


def test_json_and_chart(capture: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    chart = tmp_path / "out.png"
    args = parse(str(capture), "--json", "--chart", str(chart), "--sensor-ip", "10.20.1.15")
    assert run(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["verdict"] == "receiving" and data["summary"]["own_packets"] == 24
    assert chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_unreadable_file_exits_non_zero_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    code = "import sys; from bot.capture.cli import main; sys.exit(main())"
    for target in (bad, tmp_path / "missing.pcap"):
        done = subprocess.run(
            [sys.executable, "-c", code, str(target)], cwd=ROOT, capture_output=True, text=True
        )
        assert done.returncode == 2 and done.stdout == ""
        assert len(done.stderr.strip().splitlines()) == 1 and "analyze-pcap" in done.stderr


def test_chart_of_an_empty_capture_is_a_png() -> None:
    png = render_chart(analyse_export(pcap_bytes([]), "empty.pcap"))
    assert png.startswith(b"\x89PNG")
