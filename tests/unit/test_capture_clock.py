"""Packet times no capture can have (a wrong clock, a hostile file): flagged, never a rate."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from capture_files import pcap_file, tcp_frame

from bot.capture import AnalysisOptions, Thresholds, Verdict, analyse_export
from bot.capture.cli import add_parser, run
from bot.capture.markup import PLAIN
from bot.capture.texts import verdict_text

NOW = 1_736_500_000.0  # 2025-01-10
SPAN_YEARS = "55.0"  # from 1970-01-01 to NOW


def exchange(count: int, start: float = NOW) -> list[tuple[float, bytes]]:
    """``count`` ACK segments between two other hosts, one a second, both ways."""
    ends = (("10.30.0.1", "10.30.1.1", 40000, 443), ("10.30.1.1", "10.30.0.1", 443, 40000))
    return [(start + i, tcp_frame(*ends[i % 2])) for i in range(count)]


def with_a_packet_in_1970(count: int) -> bytes:
    return pcap_file([(0.0, tcp_frame("10.30.0.1", "10.30.1.1", 40000, 443)), *exchange(count)])


def test_mirrored_traffic_with_a_1970_packet_is_received_but_not_given_a_rate() -> None:
    analysis = analyse_export(with_a_packet_in_1970(30), "eth1.pcap")
    assert analysis.summary.first_ts == 0.0 and analysis.summary.duration_s > 50 * 365 * 86_400
    assert analysis.verdict is Verdict.RECEIVING  # 31 packets of other hosts are still evidence
    codes = [reason.code for reason in analysis.reasons]
    assert codes[:2] == ["receiving_untimed", "implausible_span"]
    assert analysis.reasons[0].data == {"packets": 31}
    assert analysis.reasons[1].data == {"years": float(SPAN_YEARS)}
    english = verdict_text(analysis, "en")
    assert f"span {SPAN_YEARS} years" in english and "31 packets from other hosts" in english
    assert "packets/s" not in english and "0.0" not in english
    japanese = verdict_text(analysis, "ja")
    assert f"{SPAN_YEARS} 年にわたって" in japanese and "パケット/秒" not in japanese


def test_too_little_traffic_over_decades_is_not_judged_by_its_duration() -> None:
    analysis = analyse_export(with_a_packet_in_1970(4), "eth1.pcap")
    assert analysis.verdict is Verdict.TOO_LITTLE
    assert [r.code for r in analysis.reasons] == ["too_little_untimed", "implausible_span"]
    english, japanese = verdict_text(analysis, "en"), verdict_text(analysis, "ja")
    assert "• 5 packets from other hosts; at least 20 are needed." in english
    assert "• 他のホストのパケットは 5 件です。判断には 20 件以上が必要です。" in japanese
    assert " s;" not in english and "秒" not in japanese  # no duration of decades


def test_a_minimum_duration_is_not_checked_against_a_broken_clock() -> None:
    options = AnalysisOptions(thresholds=Thresholds(min_duration_s=120.0))
    short = analyse_export(pcap_file(exchange(30)), "eth1.pcap", options)
    assert [r.code for r in short.reasons] == ["too_short"]
    broken = analyse_export(with_a_packet_in_1970(30), "eth1.pcap", options)
    assert broken.verdict is Verdict.RECEIVING  # judged on packets; the span is flagged
    assert "implausible_span" in [r.code for r in broken.reasons]


@pytest.mark.parametrize(("days", "flagged"), [(1.0, False), (365.0, False), (367.0, True)])
def test_only_spans_beyond_a_year_are_flagged(days: float, flagged: bool) -> None:
    records = [*exchange(30), (NOW + days * 86_400, tcp_frame("10.30.0.1", "10.30.1.1", 1, 2))]
    analysis = analyse_export(pcap_file(records), "eth1.pcap")
    main, *notes = analysis.reasons
    assert ("implausible_span" in [n.code for n in notes]) is flagged
    if flagged:
        assert main.code == "receiving_untimed"
    else:
        assert main.code == "receiving" and main.data["duration_s"] == days * 86_400


def test_the_command_shows_the_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "eth1.pcap"
    path.write_bytes(with_a_packet_in_1970(30))
    parser = argparse.ArgumentParser(prog="ddi-bot")
    add_parser(parser.add_subparsers(dest="command"))
    assert run(parser.parse_args(["analyze-pcap", str(path), "--lang", "ja"])) == 0
    out = capsys.readouterr().out
    assert "1970-01-01 00:00:00Z → 2025-01-10" in out
    assert f"• パケットのタイムスタンプが {SPAN_YEARS} 年" in out
    assert PLAIN.icons["receiving"] in out
