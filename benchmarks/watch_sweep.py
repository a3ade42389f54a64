"""The fleet watch's sweep (``Engine.sweep()``, ``bot/engine/sweep.py``) over N appliances on real
sockets: wall and CPU seconds per sweep, event-loop lag during it, peak RSS.

In-process and the sweep only: a runtime (``start_runtime``, SQLite in a temporary directory,
``watch_seconds=0`` so that no background sweep runs, ``deliver=False`` so that the outbox is
queued but not posted) is started before the clock runs, and each timed figure is one
``await runtime.engine.sweep()``; process start-up, migrations and delivery to Slack are not in
it. Every sweep is preceded, in the same runtime, by an untimed warm-up sweep of the healthy
fleet (TLS contexts built, SQLite pages read), as in a long-running bot.

- **consoles**: ``--consoles`` asyncio TLS servers on 127.0.0.1 (certificate self-signed with the
  ``openssl`` command line, as ``tests/conftest.py`` makes it; every appliance pins it with
  ``tls_fingerprint``), shared by the appliances in turn (20 servers for 500 appliances: 25
  each), in a child process (this script with ``--serve-consoles``): the servers' side of the
  handshakes is not counted as the bot's CPU or lag. A console probe is two handshakes: one to
  see the certificate, one to judge its trust.
- **portal (TMSP) servers**: ``--portals`` TCP listeners in this process (they send an SSH-style
  banner; ``--silent-portals``: none, as an HTTP proxy does), entries ``tcp://127.0.0.1:PORT``;
  each appliance lists two of them in turn. The sweep probes each server once.
- every appliance has two ``syslog_ids`` and a detection counted in the last minute (a live feed).

Two cases per run, each in a fresh runtime and database: **(a) healthy**, nothing wrong (asserted:
no alert raised); **(b) portals down**, the portal listeners closed, so every appliance fails the
same servers: expected, one fleet alert per portal server and no appliance's own alert (printed;
the next sweep, still down, must raise nothing more). Between the runs the listeners start again.

Measured per sweep: wall seconds; CPU seconds of this process (``time.process_time``, the
aiosqlite thread included); event-loop lag, as ``loop_lag.py`` measures it (a ticker sleeping
10 ms records how late it wakes) p99 and max; the process's peak RSS (``ru_maxrss``, a peak over
its whole life, so it only grows). Medians over ``--runs``. Same-run baseline: a bare loop of N
``asyncio.open_connection`` + TLS handshake to the same listeners, at most ``watch_concurrency``
(64) at once, then the same with two handshakes per appliance, as a console probe does: what the
sweep costs beyond raw probing; and the ticker alone for 2 s (the machine's own noise). Targets:
a sweep of 500 sensors stays within one interval (``DDI_BOT_WATCH_SECONDS``, 300 s by default);
event-loop lag p99 < 50 ms.

    .venv/bin/python benchmarks/watch_sweep.py                  # 500 appliances, 3 runs
    .venv/bin/python benchmarks/watch_sweep.py --quick          # 50 appliances, 1 run
    .venv/bin/python benchmarks/watch_sweep.py --appliances 2000 --consoles 40 --runs 5

Timings are printed, never asserted: on a shared 2-core machine they vary from run to run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import io
import json
import logging
import os
import resource
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from loop_lag import TARGET_P99_MS, TICK_S, lag_while

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bot.demo import TerminalMessenger  # noqa: E402
from bot.engine.sweep import SweepReport  # noqa: E402
from bot.inventory import Appliance, Inventory  # noqa: E402
from bot.runtime import Runtime, start_runtime  # noqa: E402
from bot.settings import Settings  # noqa: E402
from storage import syslog_counts  # noqa: E402
from storage.models import OutboxRow  # noqa: E402

ALERTS = "C0ALERTS"  # DDI_BOT_ALERT_CHANNEL
DEFAULT_WATCH_S = 300  # DDI_BOT_WATCH_SECONDS when unset: the interval a sweep must fit in
TMSP_PER_APPLIANCE = 2
BANNER = b"SSH-2.0-bench-portal\r\n"
BARE = {"bare, 1 handshake": 1, "bare, 2 handshakes": 2}  # name -> handshakes per appliance
IDLE = "idle (ticker alone)"
IDLE_S = 2.0


# --- the consoles: TLS servers in a child process ------------------------------------------


async def serve_consoles(cert: str, key: str, count: int) -> None:
    """``--serve-consoles``: ``count`` TLS servers; their ports as one JSON line on stdout; stop
    when stdin closes."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    async def answer(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()  # the handshake was the whole conversation

    servers = [
        await asyncio.start_server(answer, "127.0.0.1", 0, ssl=context, backlog=1024)
        for _ in range(count)
    ]
    print(json.dumps([s.sockets[0].getsockname()[1] for s in servers]), flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    for server in servers:
        server.close()


@dataclass
class Consoles:
    child: asyncio.subprocess.Process
    ports: list[int]

    @classmethod
    async def start(cls, cert: Path, key: Path, count: int) -> Consoles:
        child = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--serve-consoles", str(cert), str(key), str(count),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert child.stdout is not None
        line = await asyncio.wait_for(child.stdout.readline(), 60)
        if not line:
            raise RuntimeError(f"the console servers did not start (exit {await child.wait()})")
        return cls(child, [int(p) for p in json.loads(line)])

    async def stop(self) -> None:
        if self.child.stdin is not None:
            self.child.stdin.close()
        try:
            await asyncio.wait_for(self.child.wait(), 10)
        except TimeoutError:
            self.child.kill()
            await self.child.wait()


def self_signed(workdir: Path) -> tuple[Path, Path, str]:
    """(certificate, key, SHA-256 pin) for 127.0.0.1, as ``tests/conftest.py`` makes them."""
    if shutil.which("openssl") is None:
        raise SystemExit("watch_sweep: the openssl command line tool is needed")
    cert, key = workdir / "cert.pem", workdir / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    der = ssl.PEM_cert_to_DER_cert(cert.read_text())
    return cert, key, ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


# --- the portal servers: TCP listeners in this process -------------------------------------


class Portals:
    """Stand-ins for the shared TMSP servers: listeners that can be closed and opened again on
    the same ports (the inventory keeps its addresses)."""

    def __init__(self, count: int, banner: bool) -> None:
        self.ports = [0] * count
        self.banner = banner
        self.servers: list[asyncio.Server] = []
        self.accepted = 0

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        if self.banner:
            writer.write(BANNER)
            with contextlib.suppress(OSError):
                await writer.drain()
            writer.close()
        else:  # an HTTP proxy says nothing until asked: wait for the prober to hang up
            with contextlib.suppress(OSError):
                await reader.read()
            writer.close()

    async def start(self) -> None:
        if self.servers:
            return
        for i, port in enumerate(self.ports):
            server = await asyncio.start_server(self._answer, "127.0.0.1", port)
            self.ports[i] = server.sockets[0].getsockname()[1]
            self.servers.append(server)

    async def stop(self) -> None:
        for server in self.servers:
            server.close()
            await server.wait_closed()
        self.servers = []

    @property
    def entries(self) -> list[str]:
        return [f"tcp://127.0.0.1:{p}" for p in self.ports]


def fleet(n: int, consoles: Sequence[int], portals: Sequence[str], pin: str) -> Inventory:
    return Inventory(
        tuple(
            Appliance(
                name=f"ddi-bench-{i:04d}",
                console=f"127.0.0.1:{consoles[i % len(consoles)]}",
                tls_fingerprint=pin,
                tmsp_servers=tuple(
                    portals[(i + k) % len(portals)] for k in range(TMSP_PER_APPLIANCE)
                ),
                syslog_ids=(f"10.{i // 250}.{i % 250}.11", f"ddi-bench-{i:04d}.example.jp"),
            )
            for i in range(n)
        )
    )


# --- one measured sweep (or baseline loop) --------------------------------------------------


@dataclass(frozen=True)
class Figures:
    wall_s: float
    cpu_s: float
    lag_p99_ms: float
    lag_max_ms: float
    rss_mb: float  # peak RSS of the process so far


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


async def measured(work: Callable[[], Awaitable[Any]]) -> tuple[Figures, Any]:
    """``work()`` under the ticker of ``loop_lag.py``: its figures and its result."""
    out: dict[str, Any] = {}

    async def timed() -> None:
        cpu = time.process_time()
        out["result"] = await work()
        out["cpu"] = time.process_time() - cpu

    lag = await lag_while(timed())
    figures = Figures(lag["wall"], out["cpu"], lag["p99"], lag["max"], peak_rss_mb())
    return figures, out["result"]


async def bare(ports: Sequence[int], n: int, limit: int, handshakes: int) -> int:
    """N × (``asyncio.open_connection`` + ``handshakes`` TLS handshakes, the first accepting
    any certificate, the second verifying against the system store as a console probe's trust
    check does), at most ``limit`` appliances at once; how many first handshakes succeeded."""
    gate = asyncio.Semaphore(limit)
    look = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    look.check_hostname, look.verify_mode = False, ssl.CERT_NONE
    trust = ssl.create_default_context()
    trust.check_hostname = False

    async def shake(port: int, context: ssl.SSLContext) -> bool:
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            await writer.start_tls(context, server_hostname="127.0.0.1")
            return True
        except ssl.SSLError:
            return False
        finally:
            writer.transport.abort()

    async def one(i: int) -> bool:
        async with gate:
            ok = await shake(ports[i % len(ports)], look)
            if handshakes > 1:
                await shake(ports[i % len(ports)], trust)
            return ok

    return sum(await asyncio.gather(*(one(i) for i in range(n))))


# --- a run: both cases, each in a fresh runtime ---------------------------------------------


@dataclass
class Case:
    name: str
    figures: list[Figures] = field(default_factory=list)
    findings: list[int] = field(default_factory=list)
    own: list[int] = field(default_factory=list)  # appliances' own alerts raised
    fleet: list[int] = field(default_factory=list)  # fleet alerts raised
    queued: list[dict[str, int]] = field(default_factory=list)  # outbox rows by channel
    then: list[tuple[int, int]] = field(default_factory=list)  # the next sweep: own, fleet


@contextlib.asynccontextmanager
async def runtime(
    workdir: Path, tag: str, inventory: Inventory, probe_s: float
) -> AsyncIterator[Runtime]:
    where = workdir / tag
    where.mkdir()
    settings = replace(
        Settings(),
        database_url=f"sqlite+aiosqlite:///{where / 'bot.db'}",
        data_dir=where / "data",
        appliance_timeout=probe_s,
        watch_seconds=0,  # the benchmark sweeps
        alert_channel=ALERTS,
    )
    # never called: deliver=False leaves what the sweeps queue in the outbox, counted there
    messenger = TerminalMessenger(io.StringIO(), assume_yes=True)
    started = await start_runtime(
        settings, messenger, inventory=inventory, artifacts=where / "data", deliver=False
    )
    try:
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        async with started.db.write() as session:  # every feed alive: a detection this minute
            await syslog_counts.add(session, [(a.name, now, 3) for a in inventory.appliances])
        yield started
    finally:
        await started.stop(drain=False)


async def queued(rt: Runtime) -> dict[str, int]:
    async with rt.db.read() as session:
        rows = await session.execute(
            select(OutboxRow.channel, func.count()).group_by(OutboxRow.channel)
        )
        return {str(channel): int(n) for channel, n in rows.all()}


async def sweep_case(
    case: Case, rt: Runtime, before: Callable[[], Awaitable[None]] | None = None
) -> None:
    await rt.engine.sweep()  # warm-up, healthy: untimed
    if before is not None:
        await before()
    figures, report = await measured(rt.engine.sweep)
    assert isinstance(report, SweepReport)
    case.figures.append(figures)
    case.findings.append(len(report.findings))
    case.own.append(len(report.raised))
    case.fleet.append(len(report.fleet))
    case.queued.append(await queued(rt))
    again = await rt.engine.sweep()  # nothing changed: nothing more may be raised
    case.then.append((len(again.raised), len(again.fleet)))


def line(tag: str, f: Figures, extra: str = "") -> str:
    return (
        f"  {tag:<26} wall {f.wall_s:6.2f} s  CPU {f.cpu_s:6.2f} s  lag p99 {f.lag_p99_ms:6.1f} "
        f"max {f.lag_max_ms:6.1f} ms  peak RSS {f.rss_mb:5.0f} MB{extra}"
    )


async def bench(args: argparse.Namespace) -> int:
    n = args.appliances
    cases = {"healthy": Case("(a) healthy"), "down": Case("(b) portals down")}
    baselines: dict[str, list[Figures]] = {name: [] for name in (*BARE, IDLE)}
    with tempfile.TemporaryDirectory(prefix="sweep-fleet-") as tmp:
        workdir = Path(tmp)
        cert, key, pin = self_signed(workdir)
        consoles = await Consoles.start(cert, key, args.consoles)
        portals = Portals(args.portals, banner=not args.silent_portals)
        rss_start, limit = peak_rss_mb(), 0
        try:
            await portals.start()
            inventory = fleet(n, consoles.ports, portals.entries, pin)
            print(
                f"{n} appliances: {args.consoles} console TLS servers (child process), "
                f"{args.portals} portal listeners ({TMSP_PER_APPLIANCE} per appliance, "
                f"{'no banner' if args.silent_portals else 'banner'}), probe timeout "
                f"{args.timeout:g} s, {os.cpu_count()} CPUs; {args.runs} run(s)",
                flush=True,
            )
            for run in range(1, args.runs + 1):
                await portals.start()
                async with runtime(workdir, f"a{run}", inventory, args.timeout) as rt:
                    limit = rt.engine.config.watch_concurrency
                    healthy = cases["healthy"]
                    await sweep_case(healthy, rt)
                    seen = f"  findings {healthy.findings[-1]}, own alerts {healthy.own[-1]}, "
                    seen += f"fleet alerts {healthy.fleet[-1]}"
                    print(line(f"run {run} (a) healthy", healthy.figures[-1], seen), flush=True)
                    assert healthy.findings[-1] == 0, "a healthy fleet has findings"
                    assert healthy.own[-1] == healthy.fleet[-1] == 0, "a healthy fleet alerted"
                async with runtime(workdir, f"b{run}", inventory, args.timeout) as rt:
                    down = cases["down"]
                    await sweep_case(down, rt, before=portals.stop)
                    seen = f"  findings {down.findings[-1]}, own alerts {down.own[-1]}, "
                    seen += f"fleet alerts {down.fleet[-1]}"
                    print(line(f"run {run} (b) portals down", down.figures[-1], seen), flush=True)
                await portals.start()
                for name, shakes in BARE.items():
                    figures, ok = await measured(partial(bare, consoles.ports, n, limit, shakes))
                    baselines[name].append(figures)
                    print(line(f"run {run} {name}", figures, f"  {ok}/{n} ok"), flush=True)
                figures, _ = await measured(partial(asyncio.sleep, IDLE_S))  # the machine's noise
                baselines[IDLE].append(figures)
                print(line(f"run {run} {IDLE}", figures), flush=True)
        finally:
            await portals.stop()
            await consoles.stop()
    report(args, cases, baselines, limit, rss_start)
    return 0


def median(figures: Sequence[Figures]) -> Figures:
    def m(pick: Callable[[Figures], float]) -> float:
        return statistics.median(pick(f) for f in figures)

    return Figures(
        m(lambda f: f.wall_s),
        m(lambda f: f.cpu_s),
        m(lambda f: f.lag_p99_ms),
        m(lambda f: f.lag_max_ms),
        max(f.rss_mb for f in figures),
    )


def report(
    args: argparse.Namespace,
    cases: dict[str, Case],
    baselines: dict[str, list[Figures]],
    limit: int,
    rss_start: float,
) -> None:
    n = args.appliances
    print(
        f"\nfleet sweep of {n} appliances, median of {args.runs} run(s); wall and CPU seconds of "
        f"this process per sweep; lag = how late a {TICK_S * 1000:.0f} ms sleep wakes; "
        f"bare = N connections + TLS handshakes, at most {limit} at once (watch_concurrency); "
        "over bare 2 = the sweep's wall seconds beyond the bare loop's with 2 handshakes"
    )
    head = ("", "wall s", "CPU s", "CPU ms/appl.", "lag p99 ms", "lag max ms", "over bare 2")
    print(f"{head[0]:<20}{head[1]:>8}{head[2]:>8}{head[3]:>14}{head[4]:>12}{head[5]:>12}"
          f"{head[6]:>13}  target")  # fmt: skip
    bare2 = median(baselines[next(name for name, k in BARE.items() if k == 2)])
    rows = [(c.name, median(c.figures), True) for c in cases.values()]
    rows += [(name, median(f), False) for name, f in baselines.items()]
    for name, f, is_sweep in rows:
        interval = "met" if f.wall_s <= DEFAULT_WATCH_S else "missed"
        lag = "met" if f.lag_p99_ms < TARGET_P99_MS else "missed"
        target = (
            f"within {DEFAULT_WATCH_S} s {interval}, p99 < {TARGET_P99_MS:.0f} ms {lag}"
            if is_sweep
            else ""
        )
        over = f"{f.wall_s - bare2.wall_s:+.2f} s" if is_sweep else ""
        per = "" if name == IDLE else f"{f.cpu_s / n * 1000:.2f}"
        print(
            f"{name:<20}{f.wall_s:>8.2f}{f.cpu_s:>8.2f}{per:>14}"
            f"{f.lag_p99_ms:>12.1f}{f.lag_max_ms:>12.1f}{over:>13}  {target}".rstrip()
        )
    peak = max(f.rss_mb for fs in [*baselines.values(), *(c.figures for c in cases.values())]
               for f in fs)  # fmt: skip
    print(f"peak RSS of this process: {rss_start:.0f} MB before the first runtime, "
          f"{peak:.0f} MB at the end")  # fmt: skip
    print("per run (run 1/run 2/...):")
    for case in cases.values():
        queued = "/".join(" ".join(f"{c} {k}" for c, k in sorted(q.items())) or "0" for q in
                          case.queued)  # fmt: skip
        print(
            f"  {case.name}: findings {_runs(case.findings)}; own alerts {_runs(case.own)}; "
            f"fleet alerts {_runs(case.fleet)}; outbox rows queued {queued}; the next sweep "
            f"raised own+fleet {'/'.join(f'{o}+{f}' for o, f in case.then)}"
        )
    down = cases["down"]
    expected = args.portals
    if any(o for o in down.own) or any(f != expected for f in down.fleet):
        print(f"!! (b) expected {expected} fleet alert(s) (one per portal server) and no own "
              "alert in every run")  # fmt: skip
    if any(o or f for c in cases.values() for o, f in c.then):
        print("!! a sweep that found nothing new raised alerts again")


def _runs(values: Sequence[int]) -> str:
    return "/".join(str(v) for v in values)


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--serve-consoles":
        asyncio.run(serve_consoles(sys.argv[2], sys.argv[3], int(sys.argv[4])))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--appliances", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3, help="the table shows the median")
    parser.add_argument("--consoles", type=int, default=20, help="TLS servers the consoles share")
    parser.add_argument("--portals", type=int, default=5, help="portal (TMSP) listeners")
    parser.add_argument("--timeout", type=float, default=Settings().appliance_timeout,
                        help="DDI_BOT_APPLIANCE_TIMEOUT: seconds per probe")  # fmt: skip
    parser.add_argument("--silent-portals", action="store_true",
                        help="portal listeners send no banner (as an HTTP proxy)")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="50 appliances, 1 run")
    args = parser.parse_args()
    if args.quick:
        args.appliances, args.runs = 50, 1
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    sys.exit(asyncio.run(bench(args)))


if __name__ == "__main__":
    main()
