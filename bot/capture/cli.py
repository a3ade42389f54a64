"""``ddi-bot analyze-pcap``: analyse a capture file from the command line."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from bot.capture.analyse import analyse_path
from bot.capture.model import AnalysisOptions, Thresholds
from bot.errors import CaptureError


def add_parser(subparsers: Any) -> None:
    """Add ``analyze-pcap`` to an ``argparse`` sub-parser collection."""
    parser = subparsers.add_parser(
        "analyze-pcap",
        help="analyse a packet capture (pcap, pcapng, zip or gzip) for runbook step 3",
    )
    parser.add_argument("file", type=Path, help="capture export: .zip, .pcap, .pcapng, .gz")
    parser.add_argument("--sensor-ip", help="the sensor's management IP (own traffic)")
    parser.add_argument("--sensor-mac", help="the sensor's management MAC (own traffic)")
    parser.add_argument("--min-packets", type=int, default=Thresholds().min_packets)
    parser.add_argument("--json", action="store_true", help="print the analysis as JSON")
    parser.add_argument("--chart", type=Path, help="write a PNG chart to this path")
    parser.add_argument("--lang", choices=("en", "ja"), default="en")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the summary and verdict (or JSON): 0 when analysed, 2 when the file is unreadable,
    ``EXIT_CLOSED_PIPE`` when the reader of the output went away before it was written."""
    options = AnalysisOptions(
        sensor_ip=args.sensor_ip,
        sensor_mac=args.sensor_mac,
        thresholds=Thresholds(min_packets=getattr(args, "min_packets", 20)),
        processes=min(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1),
    )
    try:
        analysis = analyse_path(args.file, options)
    except CaptureError as exc:
        print(f"ddi-bot analyze-pcap: {exc.detail or exc}", file=sys.stderr)
        return 2
    if args.chart is not None:
        from bot.capture.chart import render_chart  # matplotlib: only when a chart is asked for

        try:
            args.chart.write_bytes(render_chart(analysis, lang=args.lang))
        except OSError as exc:
            print(f"ddi-bot analyze-pcap: cannot write {args.chart}: {exc}", file=sys.stderr)
            return 2
    if args.json:
        return _emit(analysis.to_json())
    # imported here, not above: --json needs no texts (i18n), and start-up counts
    from bot.capture.markup import PLAIN
    from bot.capture.texts import summary_text, verdict_text

    lang = args.lang
    return _emit(summary_text(analysis, lang, PLAIN) + "\n" + verdict_text(analysis, lang, PLAIN))


# What a command killed by SIGPIPE reports (128 + 13), as ``cat big | head`` shows it: the reader
# stopped early, so the output was not all delivered; ``set -o pipefail`` scripts can tell.
EXIT_CLOSED_PIPE = 141


def _emit(output: str) -> int:
    """Print ``output``; 0 once it is written, ``EXIT_CLOSED_PIPE`` if the reader went away."""
    try:
        sys.stdout.write(output + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_CLOSED_PIPE
    return 0


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so that the flush at exit cannot fail a second time and print
    "Exception ignored" (the recipe of the Python documentation, "Note on SIGPIPE")."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no descriptor behind stdout (tests): nothing will flush it
        pass


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point (``python -m bot.capture.cli FILE``)."""
    parser = argparse.ArgumentParser(prog="ddi-bot")
    add_parser(parser.add_subparsers(dest="command", required=True))
    return run(parser.parse_args(["analyze-pcap", *(sys.argv[1:] if argv is None else argv)]))


if __name__ == "__main__":
    raise SystemExit(main())
