"""Event-loop lag while captures are analysed and charted: today's path beside the new one.

A ticker task sleeps 10 ms over and over and records how late it wakes (the lag every other
coroutine of the bot, Slack listeners included, would see). Meanwhile ``--captures`` exports are
analysed and charted concurrently, at most ``--concurrency`` at a time (an ``asyncio.Semaphore``),
in two ways in the same run (beside an "idle" row, the ticker alone: the machine's own noise):

- baseline: ``analyse_in_worker`` (a process), then ``asyncio.to_thread(render_chart)``
  (matplotlib in a thread of the bot's process, which holds the GIL while it draws);
- new: ``analyse_with_chart_in_worker`` (analysis and chart both in the process).

    .venv/bin/python benchmarks/loop_lag.py                 # 50 captures, 3 runs (~1-2 min)
    .venv/bin/python benchmarks/loop_lag.py --captures 200 --concurrency 8

The captures are DDI-style exports (zip of a pcap) from ``bot.simulator.pcapgen``; a few distinct
ones are generated and reused. Each figure is the median over ``--runs``; the variants alternate
within every run. Both variants are warmed up first (matplotlib imported, fonts loaded) so that
neither pays a one-time cost inside the measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

# Nothing heavy at module level: where analyses are spawned (no fork server), every analysis
# process re-imports this module.
ROOT = Path(__file__).resolve().parents[1]
TICK_S = 0.010
TARGET_P99_MS = 50.0

Job = Callable[[bytes, str], Awaitable[bytes]]


async def baseline(data: bytes, filename: str) -> bytes:
    from bot.capture import analyse_in_worker, render_chart

    analysis = await analyse_in_worker(data, filename)
    return await asyncio.to_thread(render_chart, analysis)


async def new(data: bytes, filename: str) -> bytes:
    from bot.capture import analyse_with_chart_in_worker

    _, chart = await analyse_with_chart_in_worker(data, filename)
    return chart


VARIANTS: dict[str, Job] = {"baseline": baseline, "new": new}


def captures(distinct: int, rounds: int) -> list[tuple[str, bytes]]:
    from bot.simulator.pcapgen import capture_zip, pcap_bytes, traffic

    start = 1_736_500_000.0
    out = []
    for seed in range(distinct):
        pcap = pcap_bytes(traffic(start, start + 60, rounds, seed=seed))
        out.append(capture_zip(pcap, start + 60, interface=f"eth{seed}"))
    return out


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def lag_while(work: Awaitable[object]) -> dict[str, float]:
    """Lag figures (ms) of the ticker while ``work`` runs, and its wall time (s)."""
    lags: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        while not stop.is_set():
            before = time.perf_counter()
            await asyncio.sleep(TICK_S)
            lags.append((time.perf_counter() - before - TICK_S) * 1000)

    tick = asyncio.create_task(ticker())
    await asyncio.sleep(5 * TICK_S)
    started = time.perf_counter()
    await work
    wall = time.perf_counter() - started
    stop.set()
    await tick
    return {
        "p50": percentile(lags, 0.50),
        "p99": percentile(lags, 0.99),
        "max": max(lags),
        "wall": wall,
    }


async def analyse_all(job: Job, files: list[tuple[str, bytes]], count: int, limit: int) -> None:
    """``count`` analyses (cycling through ``files``), at most ``limit`` at a time."""
    gate = asyncio.Semaphore(limit)

    async def one(index: int) -> bytes:
        filename, data = files[index % len(files)]
        async with gate:
            return await job(data, filename)

    charts = await asyncio.gather(*(one(i) for i in range(count)))
    assert all(chart.startswith(b"\x89PNG") for chart in charts)


async def bench(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    files = await asyncio.to_thread(captures, args.distinct, args.rounds)
    sizes = ", ".join(f"{len(data) / 1000:.0f} kB" for _, data in files)
    print(
        f"generated {len(files)} captures ({args.rounds * 18} packets each; {sizes}) "
        f"in {time.perf_counter() - started:.1f} s"
    )
    for job in VARIANTS.values():  # warm-up: imports, fonts, the fork server's start
        await analyse_all(job, files, 1, 1)
    names = ["idle", *VARIANTS]
    results: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    for run in range(args.runs):
        for name in names:
            if name == "idle":  # the machine's own noise: the ticker alone
                r = await lag_while(asyncio.sleep(args.idle))
            else:
                job = VARIANTS[name]
                r = await lag_while(analyse_all(job, files, args.captures, args.concurrency))
            results[name].append(r)
            print(
                f"  run {run + 1} {name:<9} p50 {r['p50']:7.1f}  p99 {r['p99']:7.1f}  "
                f"max {r['max']:7.1f} ms  wall {r['wall']:5.1f} s",
                flush=True,
            )
    print(
        f"\n{args.captures} captures, concurrency {args.concurrency}, {os.cpu_count()} CPUs, "
        f"median of {args.runs} run(s); the ticker sleeps {TICK_S * 1000:.0f} ms, "
        "lag = how late it wakes; idle = the ticker alone"
    )
    head = ("variant", "lag p50 ms", "lag p99 ms", "lag max ms", "wall s")
    print(f"{head[0]:<10}{head[1]:>12}{head[2]:>12}{head[3]:>12}{head[4]:>9}  target")
    for name, runs in results.items():
        m = {key: statistics.median(r[key] for r in runs) for key in ("p50", "p99", "max", "wall")}
        verdict = "met" if m["p99"] < TARGET_P99_MS else "missed"
        target = "" if name == "idle" else f"p99 < {TARGET_P99_MS:.0f} ms {verdict}"
        row = f"{name:<10}{m['p50']:>12.1f}{m['p99']:>12.1f}{m['max']:>12.1f}{m['wall']:>9.1f}"
        print(f"{row}  {target}".rstrip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--captures", type=int, default=50, help="analyses per variant and run")
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--distinct", type=int, default=4, help="distinct captures generated")
    parser.add_argument("--rounds", type=int, default=40, help="18 packets per round")
    parser.add_argument("--idle", type=float, default=3.0, help="seconds of the idle row")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    asyncio.run(bench(args))


if __name__ == "__main__":
    main()
