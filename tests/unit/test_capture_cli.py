"""``analyze-pcap`` command and the PNG chart."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from capture_files import zipped

from bot.capture import Analysis, TrafficSummary, Verdict, analyse_export, render_chart
from bot.capture.cli import EXIT_CLOSED_PIPE, add_parser, run
from bot.capture.markup import MRKDWN, PLAIN
from bot.capture.texts import summary_text, verdict_text
from bot.simulator.pcapgen import pcap_bytes, traffic

T0 = 1_736_500_000.0
ROOT = Path(__file__).resolve().parents[2]
# What Slack would render as formatting: bold, code, emoji codes, entities.
SLACK_MARKUP = re.compile(r"[*`]|:[a-z_]+:|&(amp|lt|gt);")


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


@pytest.mark.parametrize(
    ("lang", "head", "verdict"),
    [
        ("en", "Capture summary — eth1.pcap: 54 packets", "✅ The sensor receives mirrored"),
        ("ja", "キャプチャ概要 — eth1.pcap: 54 パケット", "✅ センサーはミラートラフィック"),
    ],
)
def test_terminal_text_has_no_slack_markup(
    capture: Path, capsys: pytest.CaptureFixture[str], lang: str, head: str, verdict: str
) -> None:
    assert run(parse(str(capture), "--lang", lang)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(head)
    assert any(line.startswith(verdict) for line in lines)
    assert not [line for line in lines if SLACK_MARKUP.search(line)]


@pytest.mark.parametrize("verdict", list(Verdict))
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_every_verdict_is_plain_in_a_terminal_and_mrkdwn_in_slack(
    verdict: Verdict, lang: str
) -> None:
    network = {"ipv4": 0, "ipv6": 0, "arp": 0, "other": 0}
    summary = TrafficSummary(("eth1.pcap",), 0, 0, None, None, network=network)
    analysis = Analysis(summary, verdict, ())
    plain = summary_text(analysis, lang, PLAIN) + "\n" + verdict_text(analysis, lang, PLAIN)
    assert not SLACK_MARKUP.search(plain)
    assert verdict_text(analysis, lang, PLAIN).startswith(PLAIN.icons[verdict.value] + " ")
    # The bot's callers (bot.engine.steps) use the default: Slack mrkdwn, as before.
    slack = verdict_text(analysis, lang)
    assert slack == verdict_text(analysis, lang, MRKDWN)
    assert re.match(rf"{MRKDWN.icons[verdict.value]} \*[^*]+\*", slack)
    title = {"en": "Capture summary", "ja": "キャプチャ概要"}[lang]
    assert summary_text(analysis, lang).startswith(f"*{title}* — `eth1.pcap`: ")


def test_names_from_the_archive_cannot_drive_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = "eth1\x1b]0;owned\x07\x1b[2J\u202e\x9b31m\n✅ fake.pcap"
    export = tmp_path / "capture.zip"
    export.write_bytes(zipped({name: pcap_bytes(traffic(T0, T0 + 30, 3, seed=1))}))
    assert run(parse(str(export))) == 0
    out = capsys.readouterr().out
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", out)
    assert out.splitlines()[0].startswith("Capture summary — eth1?]0;owned??[2J??31m?✅ fake.pcap:")
    assert sum(line.startswith("✅") for line in out.splitlines()) == 1


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


def _analyse_into_a_closed_pipe(*options: str) -> subprocess.CompletedProcess[bytes]:
    """``ddi-bot analyze-pcap`` writing into a pipe whose reader is gone before it writes."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [sys.executable, "-m", "bot", "analyze-pcap", *options],
            cwd=ROOT,
            stdout=write_end,
            stderr=subprocess.PIPE,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)


@pytest.mark.parametrize("output", [["--json"], [], ["--lang", "ja"]])
def test_a_closed_pipe_ends_quietly_like_a_filter_killed_by_sigpipe(
    capture: Path, output: list[str]
) -> None:
    done = _analyse_into_a_closed_pipe(*output, str(capture))
    assert done.stderr == b""  # no traceback, no "Exception ignored" at exit
    assert done.returncode == EXIT_CLOSED_PIPE == 141


def test_head_reads_the_start_of_the_output_and_the_rest_is_dropped(capture: Path) -> None:
    command = f"{sys.executable} -m bot analyze-pcap --json {capture} | head -c 10"
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command], cwd=ROOT, capture_output=True, timeout=60
    )
    assert done.stdout == b'{\n  "verdi' and done.stderr == b""
    # 0 when the whole output fitted in the pipe before head left, else 141 (SIGPIPE's status)
    assert done.returncode in (0, EXIT_CLOSED_PIPE)


def test_analyze_pcap_json_imports_only_what_the_analysis_needs() -> None:
    """Start-up is part of every run: no chart, Slack, scapy, asyncio or settings stack."""
    capture = ROOT / "tests" / "data" / "RADIUS.pcap"
    heavy = ("matplotlib", "scapy", "slack_bolt", "slack_sdk", "asyncio", "yaml", "sqlalchemy")
    code = (
        "import sys; from bot.cli import main; code = main(sys.argv[1:]); "
        f"sys.stderr.write(repr([m for m in {heavy!r} if m in sys.modules])); sys.exit(code)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "analyze-pcap", str(capture), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["summary"]["packets"] == 4
    assert done.stderr == "[]"
