"""The ``ddi-bot`` command: serve, demo, simulator, analyze-pcap, case verify, db upgrade.

``analyze-pcap`` starts on a path of its own: it needs none of the bot's start-up (asyncio,
settings, inventory, logging set-up), so only what the analysis needs is imported at the top;
the other commands import theirs when they run.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bot.capture import cli as capture_cli
from bot.errors import ConfigError, DdiBotError


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("ddi-bot")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    from bot.inventory import SCENARIOS
    from bot.settings import LANGS

    parser = argparse.ArgumentParser(
        prog="ddi-bot", description="Run the DDI troubleshooting runbook from Slack."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the Slack app (Socket Mode or HTTP)")
    serve.add_argument("--host", default="0.0.0.0", help="HTTP mode: listen address")
    serve.add_argument("--port", type=int, default=3000, help="HTTP mode: listen port")

    demo = sub.add_parser("demo", help="run one whole case in the terminal, without Slack")
    demo.add_argument("--scenario", choices=SCENARIOS, default="tmsp-down")
    demo.add_argument("--lang", choices=LANGS, default=None, help="default: DDI_BOT_LANG or en")
    demo.add_argument("--yes", action="store_true", help="take every recommended answer")
    demo.add_argument("--database", default=None, help="database URL (default: a temporary file)")

    sim = sub.add_parser("simulator", help="serve the appliance simulator (demo and tests only)")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=8443)
    sim.add_argument("--reboot-seconds", type=float, default=5.0)

    capture_cli.add_parser(sub)

    case = sub.add_parser("case", help="one case's stored record")
    case_sub = case.add_subparsers(dest="case_command", required=True)
    verify = case_sub.add_parser(
        "verify", help="check that a case's timeline was not altered (exit 1 if it was)"
    )
    verify.add_argument("case_id", type=int, help="the case number (#N in Slack)")
    verify.add_argument("--lang", choices=LANGS, default=None, help="default: DDI_BOT_LANG")

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply migrations up to the newest schema")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    if words[:1] == ["analyze-pcap"]:
        try:
            return capture_cli.main(words[1:])
        except KeyboardInterrupt:
            return 130
    import asyncio
    import logging
    import os

    from bot.logs import configure, log_format

    args = build_parser().parse_args(words)
    quiet = args.command in ("demo", "db", "analyze-pcap", "case")
    level = logging.DEBUG if args.verbose else logging.WARNING if quiet else logging.INFO
    try:
        configure(level, log_format(os.environ))  # no line prints a credential in a URL
        return asyncio.run(_dispatch(args))
    except KeyboardInterrupt:
        return 130
    except DdiBotError as exc:
        print(f"ddi-bot: {exc.detail or exc}", file=sys.stderr)
        return 2


async def _dispatch(args: argparse.Namespace) -> int:
    import asyncio

    from bot.settings import load_settings

    if args.command == "analyze-pcap":  # with a global option before it (ddi-bot -v ...)
        return await asyncio.to_thread(capture_cli.run, args)
    settings = load_settings()
    if args.command == "demo":
        from bot.demo import run_demo

        return await run_demo(args.scenario, args.lang or settings.lang, args.yes, args.database)
    if args.command == "serve":
        from bot.serve import serve

        return await serve(settings, args.host, args.port)
    if args.command == "simulator":
        return await _simulator(settings.inventory_path, args.host, args.port, args.reboot_seconds)
    if args.command == "case":
        from bot.case_cli import verify

        return await verify(settings.database_url, args.case_id, args.lang or settings.lang)
    if args.command == "db":
        from bot.startup import open_database

        db = await open_database(settings.database_url)
        await db.dispose()
        print("database schema is up to date")
        return 0
    raise ConfigError(f"unknown command {args.command}")


async def _simulator(inventory_path: object, host: str, port: int, reboot_seconds: float) -> int:
    import asyncio
    import signal
    from pathlib import Path

    from bot.inventory import demo_inventory, load_inventory
    from bot.simulator.server import create_app, start_simulator

    inventory = (
        load_inventory(inventory_path) if isinstance(inventory_path, Path) else demo_inventory()
    )
    fleet = inventory.simulated()
    handle = await start_simulator(create_app(fleet, reboot_seconds), host, port)
    print(f"simulator (ddi-bot's own test protocol, not a Trend Micro API) at {handle.url}")
    for appliance in fleet:
        print(f"  {appliance.name}: {appliance.scenario}")
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await handle.stop()
    return 0
