"""A fleet sweep: N simulated sensors opened at once with ``/ddi-check``, through a real
``ddi-bot serve`` (HTTP mode), on SQLite and on PostgreSQL.

For each database, two ``ddi-bot serve`` processes, each on a fresh database (PostgreSQL: a new
database on 127.0.0.1:5432, dropped afterwards; skipped, saying why, if it is not reachable),
with one inventory of ``--sensors`` simulated sensors (scenarios ``tmsp-down`` and ``quiet``
in turn), served by a ``ddi-bot simulator`` process of their own, as real sensors are
(``--embedded-simulator``: by the bot's embedded simulator instead, whose CPU then counts as
the bot's):

- **own channels**: first one case alone per scenario (the baseline), then all N signed
  ``/ddi-check`` at once, each in a channel of its own (Slack's ~1 post/s per channel pacing,
  ``DDI_BOT_SLACK_POSTS_PER_SECOND``, would otherwise make a sweep take an hour). Measured:
  how many answers came within Slack's 3 s, how long until every case waits for its first
  question (a) in the database (``cases.phase`` is an ``await_*`` phase; polled every 0.2 s)
  and (b) as a question (a message with buttons) posted to the Slack-like server; the serve
  process's CPU (user+sys from ``/proc/PID/stat``) per case from the burst until it is idle
  again; its peak RSS (``VmHWM``); Slack calls per case; chat.postMessage per second per
  channel (the most in any 1-second window, and in any 10-second window divided by 10);
  questions or root messages posted twice.
- **one channel**: all N in the same channel, measured only until every case waits for its
  first question in the database (posting N threads at ~1/s takes many minutes); posts/s in
  that channel until then, in the 10 s after (the pacing once nothing else competes), and
  what the outbox still holds.

The Slack-like Web API (``tests/scenarios/fakeslack.py``) runs in this process. The bot's CPU
includes, on SQLite, the database work; PostgreSQL's own processes are not counted. Each
process's stderr is kept and summarised at the end.

    .venv/bin/python benchmarks/fleet_sweep.py                 # 500 sensors, both databases
    .venv/bin/python benchmarks/fleet_sweep.py --quick         # 100 sensors, SQLite (~1 min)
    .venv/bin/python benchmarks/fleet_sweep.py --sensors 1000 --runs 3 --databases postgres

How long the default takes is up to the bot: about 7.5 min on a 2-core machine at the commit
after "Engine v2" (SQLite's two runs ~5 min, PostgreSQL's ~2.5 min); ``--no-one-channel`` or
``--databases`` shorten it. An answer that is not HTTP 200 (Bolt answers 404 when a listener
has not called ``ack()`` within its 3 s) is listed under "HTTP statuses". With ``--runs``
above 1 every run is a fresh process and database; the table shows each run
and the median. Targets: every case acked within 3 s and none lost; at most 40 ms of bot CPU
per case; chat.postMessage at most ~1/s per channel, with short bursts.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slackload import (
    ACK_DEADLINE_S,
    AWAIT_PREFIX,
    OPERATOR,
    POSTGRES_SERVER,
    Ack,
    BotProcess,
    Latency,
    Pacing,
    Phases,
    TimedSlack,
    Unavailable,
    bot_env,
    client,
    command_body,
    database,
    fire,
    is_question,
    pacing,
    start_slack,
    summarise_log,
    write_inventory,
)

TARGET_CPU_MS = 40.0
SCENARIOS = ("tmsp-down", "quiet")
ONE_CHANNEL = "C0ONECHANNEL"
AFTER_S = 10.0  # one channel: how long its posts are watched once every case waits


@dataclass
class Result:
    database: str
    mode: str
    sensors: int
    acks: list[Ack] = field(default_factory=list)
    burst_s: float = 0.0  # from the first request sent to the last answer
    in_db: dict[str, tuple[float, str]] = field(default_factory=dict)
    in_slack: dict[str, float] = field(default_factory=dict)  # sensor -> first question
    cases: int = 0  # rows in cases for the fleet's sensors
    solo: dict[str, tuple[float, float]] = field(default_factory=dict)  # scenario -> db, slack
    cpu_s: float = 0.0  # from the burst until idle (own channels) or until all in the db
    measured_s: float = 0.0
    idle_cpu_share: float = 0.0  # of one CPU, before the burst
    rss_mb: float = 0.0  # before the burst
    hwm_mb: float = 0.0
    calls: Counter[str] = field(default_factory=Counter)
    pace: Pacing = field(default_factory=lambda: Pacing(0, 0, 0, 0.0, 0.0))
    twice: int = 0  # channels where a question or root message was posted more than once
    outbox: dict[str, int] = field(default_factory=dict)
    after: tuple[float, int] | None = None  # one channel: posts/s, max in 1 s, AFTER_S later
    replies: int = 0  # posts to the commands' response_url (errors told to the requester)
    exit_code: int | None = None
    log: list[str] = field(default_factory=list)

    @property
    def ok_acks(self) -> int:
        return sum(a.status == 200 and "Opening a check" in a.text for a in self.acks)

    @property
    def in_time(self) -> int:
        return sum(
            a.status == 200 and "Opening a check" in a.text and a.seconds <= ACK_DEADLINE_S
            for a in self.acks
        )

    def statuses(self) -> str:
        counts = Counter(a.status for a in self.acks)
        return " ".join(f"{status}x{n}" for status, n in sorted(counts.items()))

    def db_times(self) -> list[float]:
        return [t for t, phase in self.in_db.values() if phase.startswith(AWAIT_PREFIX)]


def names(n: int) -> list[str]:
    return [f"ddi-fleet-{i:04d}" for i in range(n)]


def channel(i: int) -> str:
    return f"C{i:08d}"


def inventory(n: int) -> list[dict[str, str]]:
    fleet = [
        {"name": name, "driver": "simulated", "scenario": SCENARIOS[i % len(SCENARIOS)]}
        for i, name in enumerate(names(n))
    ]
    solo = [{"name": f"ddi-solo-{s}", "driver": "simulated", "scenario": s} for s in SCENARIOS]
    return fleet + solo


def first_questions(calls: Sequence[tuple[float, str, dict[str, Any]]]) -> dict[str, float]:
    """channel -> when its first question was posted."""
    out: dict[str, float] = {}
    for t, method, args in calls:
        if method == "chat.postMessage" and is_question(args):
            out.setdefault(str(args.get("channel")), t)
    return out


def posted_twice(calls: Sequence[tuple[float, str, dict[str, Any]]]) -> int:
    """Channels where the same root message or question went out more than once."""
    seen: Counter[tuple[str, str]] = Counter()
    for _, method, args in calls:
        if method != "chat.postMessage":
            continue
        if is_question(args) or not args.get("thread_ts"):
            seen[
                (str(args.get("channel")), str(args.get("thread_ts")) + str(args.get("text")))
            ] += 1
    return len({c for (c, _), n in seen.items() if n > 1})


async def solo_case(
    slack: TimedSlack, http: Any, bot: BotProcess, phases: Phases, scenario: str
) -> tuple[float, float]:
    """One case alone: seconds to its first question in the database, and in Slack."""
    name, where = f"ddi-solo-{scenario}", f"C0SOLO{scenario.upper().replace('-', '')}"
    mark = len(slack.calls)
    start = time.monotonic()
    body = command_body(name, OPERATOR, where, f"{slack.url}/respond/solo")
    ack = (await fire(http, bot.url, [body]))[0]
    assert ack.status == 200 and "Opening a check" in ack.text, ack
    seen = await phases.watch([name], start, within=60, every=0.05)
    for _ in range(600):
        if where in first_questions(slack.since(mark)):
            break
        await asyncio.sleep(0.05)
    asked = first_questions(slack.since(mark)).get(where, float("nan")) - start
    return seen.get(name, (float("nan"), ""))[0], asked


async def sweep(
    args: argparse.Namespace, slack: TimedSlack, workdir: Path, db: str, mode: str, tag: str
) -> Result:
    n = args.sensors
    result = Result(db, mode, n)
    fleet = names(n)
    inv = workdir / "inventory.yml"
    write_inventory(inv, inventory(n))
    simulator = None
    if not args.embedded_simulator:  # the sensors in a process of their own, as real ones are
        simulator = await BotProcess.simulator(dict(os.environ), workdir, inv)
        write_inventory(inv, [{**a, "simulator_url": simulator.url} for a in inventory(n)])
    async with database(db, workdir / f"{tag}.db", args.postgres) as url:
        env = bot_env(slack, url, inv, workdir)
        bot = await BotProcess.serve(env, workdir, tag)
        try:
            async with client() as http, Phases(url) as phases:
                if mode == "own channels":
                    for scenario in SCENARIOS:
                        result.solo[scenario] = await solo_case(slack, http, bot, phases, scenario)
                        await bot.wait_idle(quiet_s=2.0)
                else:  # warm up the same way, in another channel, so the first burst is fair
                    await solo_case(slack, http, bot, phases, SCENARIOS[0])
                    await bot.wait_idle(quiet_s=2.0)
                cpu_before, idle_start = bot.cpu_seconds(), time.monotonic()
                await asyncio.sleep(2.0)
                result.idle_cpu_share = (bot.cpu_seconds() - cpu_before) / (
                    time.monotonic() - idle_start
                )
                result.rss_mb = bot.memory_mb()["VmRSS"]
                mark, replied = len(slack.calls), len(slack.responses)
                respond = f"{slack.url}/respond/fleet"
                where = [channel(i) if mode == "own channels" else ONE_CHANNEL for i in range(n)]
                bodies = [
                    command_body(a, OPERATOR, c, respond) for a, c in zip(fleet, where, strict=True)
                ]
                cpu0, start = bot.cpu_seconds(), time.monotonic()
                watching = asyncio.create_task(
                    phases.watch(fleet, start, within=args.limit, every=0.2)
                )
                result.acks = await fire(http, bot.url, bodies)
                result.burst_s = max(a.sent + a.seconds for a in result.acks) - start
                result.in_db = await watching
                if mode == "own channels":
                    wanted = {channel(i) for i in range(n)}
                    deadline = start + args.limit
                    while time.monotonic() < deadline:
                        if wanted <= first_questions(slack.since(mark)).keys():
                            break
                        await asyncio.sleep(0.2)
                    await bot.wait_idle(quiet_s=2.0, within=max(5.0, deadline - time.monotonic()))
                    asked = first_questions(slack.since(mark))
                    result.in_slack = {
                        name: asked[channel(i)] - start
                        for i, name in enumerate(fleet)
                        if channel(i) in asked
                    }
                result.cpu_s = bot.cpu_seconds() - cpu0
                result.measured_s = time.monotonic() - start
                result.hwm_mb = bot.memory_mb()["VmHWM"]
                calls = slack.since(mark)
                if mode == "one channel":  # the channel once the cases wait: paced at ~1/s?
                    after = len(slack.calls)
                    await asyncio.sleep(AFTER_S)
                    later = [c for c in slack.since(after) if c[1] == "chat.postMessage"]
                    result.after = (len(later) / AFTER_S, pacing(later).max_1s)
                result.calls = Counter(method for _, method, _ in calls)
                result.pace = pacing(calls)
                result.twice = posted_twice(calls)
                found = await phases.phases()
                result.cases = sum(name in found for name in fleet)
                result.outbox = await phases.outbox()
                result.replies = len(slack.responses) - replied
        finally:
            result.exit_code = await bot.stop()
            result.log = summarise_log(bot.log())
            if args.keep_logs:
                target = args.keep_logs / f"{tag}.log"
                target.write_text(bot.log(), encoding="utf-8")
            if simulator is not None:
                await simulator.stop()
    return result


def fmt(value: float | None, spec: str = ".1f") -> str:
    return "—" if value is None or value != value else format(value, spec)


def report(results: list[Result], args: argparse.Namespace) -> None:
    n = args.sensors
    print(
        f"\n{n} simulated sensors (scenarios {' and '.join(SCENARIOS)} in turn) opened at once "
        "with signed /ddi-check against one ddi-bot serve process (HTTP mode); a fresh "
        "process and database per row; times in seconds from the first request"
    )
    print("\n-- answers to the burst (Slack wants each within 3 s)")
    print(f"{'database':<11}{'mode':<14}{'acked':>9}{'<=3 s':>9}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'max ms':>9}{'connect max':>12}{'last at':>9}{'replies':>9}"
          "  HTTP statuses")  # fmt: skip
    for r in results:
        lat = Latency.of(r.acks)
        connect = max(a.connect for a in r.acks) * 1000
        print(
            f"{r.database:<11}{r.mode:<14}{f'{r.ok_acks}/{n}':>9}{f'{r.in_time}/{n}':>9}"
            f"{lat.p50:>9.0f}{lat.p99:>9.0f}{lat.max:>9.0f}{connect:>12.0f}{r.burst_s:>9.1f}"
            f"{r.replies:>9}  {r.statuses()}"
        )
    print("\n-- first question: every case waiting for a person (p50 / all), beside one case alone")
    print(f"{'database':<11}{'mode':<14}{'cases':>8}{'in db':>8}{'db p50':>8}{'db all':>8}"
          f"{'in slack':>10}{'sl p50':>8}{'sl all':>8}{'alone db':>10}{'alone sl':>10}"
          f"{'twice':>7}")  # fmt: skip
    for r in results:
        db_t = r.db_times()
        closed = len(r.in_db) - len(db_t)
        sl_t = list(r.in_slack.values())
        alone_db = max((d for d, _ in r.solo.values()), default=None)
        alone_sl = max((s for _, s in r.solo.values()), default=None)
        in_db = f"{len(db_t)}" + (f"+{closed}c" if closed else "")
        own = r.mode == "own channels"
        print(
            f"{r.database:<11}{r.mode:<14}{r.cases:>8}{in_db:>8}"
            f"{fmt(statistics.median(db_t) if db_t else None):>8}"
            f"{fmt(max(db_t) if len(db_t) == n else None):>8}"
            f"{(str(len(sl_t)) if own else 'n/a'):>10}"
            f"{fmt(statistics.median(sl_t) if sl_t else None):>8}"
            f"{fmt(max(sl_t) if len(sl_t) == n else None):>8}"
            f"{fmt(alone_db, '.2f'):>10}{fmt(alone_sl, '.2f'):>10}{r.twice:>7}"
        )
    print("\n-- cost (CPU from the burst until idle again; one channel: until all in the db)")
    print(f"{'database':<11}{'mode':<14}{'CPU s':>8}{'ms/case':>9}{'target':>8}{'idle %':>8}"
          f"{'RSS MB':>8}{'peak MB':>9}{'calls/case':>11}  calls by method")  # fmt: skip
    for r in results:
        per_case = r.cpu_s / n * 1000
        verdict = "met" if per_case <= TARGET_CPU_MS else "missed"
        total = sum(r.calls.values())
        methods = ", ".join(f"{m} {c / n:.2f}" for m, c in r.calls.most_common(4))
        print(
            f"{r.database:<11}{r.mode:<14}{r.cpu_s:>8.1f}{per_case:>9.1f}{verdict:>8}"
            f"{r.idle_cpu_share * 100:>8.1f}{r.rss_mb:>8.0f}{r.hwm_mb:>9.0f}"
            f"{total / n:>11.2f}  {methods}"
        )
    print("\n-- chat.postMessage per channel: most in any 1 s window (max over channels, median "
          "over channels), most in any 10 s window / 10")  # fmt: skip
    print(f"{'database':<11}{'mode':<14}{'channels':>9}{'posts':>7}{'max 1 s':>9}"
          f"{'median 1 s':>11}{'max 10 s/10':>12}  outbox at the end")  # fmt: skip
    for r in results:
        p = r.pace
        print(
            f"{r.database:<11}{r.mode:<14}{p.channels:>9}{p.posts:>7}{p.max_1s:>9}"
            f"{p.median_max_1s:>11.1f}{p.max_10s:>12.1f}  {r.outbox}"
        )
    for r in results:
        if r.after is not None:
            print(
                f"{r.database} / one channel, in the {AFTER_S:.0f} s after every case waits: "
                f"{r.after[0]:.1f} chat.postMessage/s, at most {r.after[1]} in 1 s"
            )
    if args.runs > 1:
        print("\n-- median over runs")
        keys = sorted({(r.database, r.mode) for r in results})
        for key in keys:
            rows = [r for r in results if (r.database, r.mode) == key]
            db_all = [max(r.db_times()) for r in rows if r.db_times()]
            cpu = [r.cpu_s / n * 1000 for r in rows]
            all_in_db = fmt(statistics.median(db_all) if db_all else None)
            print(
                f"{key[0]:<11}{key[1]:<14} acked <=3 s "
                f"{statistics.median(r.in_time for r in rows):.0f}/{n}, all in db {all_in_db} s, "
                f"CPU {statistics.median(cpu):.1f} ms/case, peak "
                f"{statistics.median(r.hwm_mb for r in rows):.0f} MB"
            )
    print("\n-- each serve process's stderr, summarised")
    for r in results:
        print(f"{r.database} / {r.mode}: exit {r.exit_code}; {r.log[0]}")
        for line in r.log[1:]:
            print(f"    {line}")


async def bench(args: argparse.Namespace) -> int:
    slack, runner = await start_slack()
    results: list[Result] = []
    try:
        with tempfile.TemporaryDirectory(prefix="fleet-sweep-") as tmp:
            workdir = Path(tmp)
            for db in args.databases:
                for mode in args.modes:
                    for run in range(args.runs):
                        tag = f"{db}-{mode.replace(' ', '-')}-{run + 1}"
                        started = time.monotonic()
                        try:
                            r = await sweep(args, slack, workdir, db, mode, tag)
                        except Unavailable as exc:
                            print(f"skipping PostgreSQL: {exc}", flush=True)
                            break
                        except Exception as exc:  # the bot did not start, say: the next one
                            print(f"  {tag}: failed: {type(exc).__name__}: {exc}", flush=True)
                            continue
                        results.append(r)
                        db_t = r.db_times()
                        print(
                            f"  {tag}: acked {r.ok_acks}/{r.sensors} ({r.in_time} within 3 s), "
                            f"{len(db_t)} waiting in the db "
                            f"(all by {fmt(max(db_t) if db_t else None)} s), "
                            f"{len(r.in_slack)} questions in Slack, CPU {r.cpu_s:.1f} s; "
                            f"{time.monotonic() - started:.0f} s",
                            flush=True,
                        )
                    else:
                        continue
                    break
    finally:
        await runner.cleanup()
    if results:
        report(results, args)
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sensors", type=int, default=500)
    parser.add_argument("--runs", type=int, default=1, help="fresh process and database each")
    parser.add_argument("--quick", action="store_true", help="100 sensors, SQLite only")
    parser.add_argument(
        "--databases", type=lambda s: s.split(","), default=["sqlite", "postgres"],
        help="comma-separated: sqlite,postgres",
    )  # fmt: skip
    parser.add_argument(
        "--postgres", default=POSTGRES_SERVER, help="PostgreSQL server (SQLAlchemy URL, no db)"
    )
    parser.add_argument("--no-one-channel", action="store_true", help="skip the one-channel run")
    parser.add_argument("--limit", type=float, default=300.0, help="seconds to wait, at most")
    parser.add_argument("--keep-logs", type=Path, help="copy each serve process's stderr here")
    parser.add_argument(
        "--embedded-simulator",
        action="store_true",
        help="the bot's own embedded simulator (its CPU then counts as the bot's)",
    )
    args = parser.parse_args()
    if args.quick:
        args.sensors, args.databases = 100, ["sqlite"]
    args.modes = ["own channels"] if args.no_one_channel else ["own channels", "one channel"]
    if args.keep_logs:
        args.keep_logs.mkdir(parents=True, exist_ok=True)
    sys.exit(asyncio.run(bench(args)))


if __name__ == "__main__":
    main()
