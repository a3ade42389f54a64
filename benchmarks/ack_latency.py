"""Ack latency of a real ``ddi-bot serve`` (HTTP mode) beside a bare Bolt app that only acks.

Both servers run as subprocesses on 127.0.0.1 and answer the same signed requests (the same
signing secret, the same bodies), fired ``--concurrency`` at once, in four bursts:

- ``check simulated``: ``/ddi-check <name>`` on as many different simulated sensors (scenario
  ``tmsp-down``; the bot runs each case to its first question while later requests wait);
- ``check guided``: the same on guided sensors (the bot posts step 1's console instructions);
- ``click``: clicks on the buttons of one question (a case run to its first question
  beforehand; the first click decides, the others are refused as already decided);
- ``help``: ``/ddi-check help`` (the answer lists every appliance of the inventory).

The bot is the whole ``ddi-bot serve`` process: SQLite (or ``--database postgres``, a fresh
database dropped afterwards), one inventory holding every sensor used (simulated ones served by a
``ddi-bot simulator`` process of their own, or with ``--embedded-simulator`` by the bot's, and
guided ones), each case in a channel of its own. The baseline is
``slack_bolt.AsyncApp`` behind the same aiohttp adapter (``to_bolt_request`` /
``to_aiohttp_response``) whose listeners only ``ack()`` (the help with a text as long as the
bot's). Latency is measured by the sender, from just before the request to the whole answer;
every request opens its own connection. Before the first burst each server has answered one
request of each kind and one untimed burst of ``--concurrency`` helps. After each burst the
bot is left to finish what it started (its cases' questions posted, its CPU idle) before the
next one. The Slack-like Web API (``tests/scenarios/fakeslack.py``) runs in this process; the
"sender lag" column is the worst event-loop lag of this process during the burst (how much of
a figure is the harness).

    .venv/bin/python benchmarks/ack_latency.py            # 50 at once, 3 runs (~2 min)
    .venv/bin/python benchmarks/ack_latency.py --quick    # 1 run (~45 s)
    .venv/bin/python benchmarks/ack_latency.py --concurrency 100 --runs 5 --database postgres

Each figure is the median over ``--runs`` of that run's p50 / p99 / max; with 50 requests p99
lies between the two slowest. Bot and baseline alternate (which goes first) from run to run.
Target: the bot's ack p99 at most 1.2 times the bare app's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slackload import (
    OPERATOR,
    POSTGRES_SERVER,
    SECRET,
    TOKEN,
    Ack,
    BotProcess,
    Latency,
    Phases,
    TimedSlack,
    Unavailable,
    action_body,
    bot_env,
    buttons,
    client,
    command_body,
    database,
    fire,
    free_port,
    is_question,
    start_slack,
    summarise_log,
    write_inventory,
)

TARGET_RATIO = 1.2
KINDS = ("check simulated", "check guided", "click", "help")


# --- the baseline: a bare Bolt app (a child process: this script with --bare-serve) -------


def bare_serve(port: int, slack_api: str, inventory: Path) -> None:
    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncAck, AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    names = re.findall(r"name: (\S+)", inventory.read_text(encoding="utf-8"))
    help_text = "*Usage*: `/ddi-check <appliance>` … Known appliances: " + ", ".join(
        f"`{name}`" for name in names
    )
    bolt = AsyncApp(
        client=AsyncWebClient(token=TOKEN, base_url=slack_api),
        signing_secret=SECRET,
        process_before_response=False,
    )

    @bolt.command("/ddi-check")
    async def command(ack: AsyncAck, command: dict[str, Any]) -> None:
        text = str(command.get("text") or "")
        if not text or text == "help":
            await ack(text=help_text)
        else:
            await ack(text=f"Opening a check of `{text}`…")

    @bolt.action(re.compile(r"^ddi_(decide|guide):[a-z_]+$"))
    async def action(ack: AsyncAck) -> None:
        await ack()

    async def events(request: web.Request) -> web.Response:
        bolt_request = await to_bolt_request(request)
        bolt_response = await bolt.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post("/slack/events", events)
    app.router.add_get("/healthz", healthz)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


# --- the benchmark ----------------------------------------------------------------------


@dataclass
class Fleet:
    """Sensor names per burst kind and run (run -1: the warm-up), and the inventory of them."""

    runs: int
    n: int

    def simulated(self, run: int) -> list[str]:
        return [f"sim-r{run}-{i:03d}" for i in range(self.n)]

    def guided(self, run: int) -> list[str]:
        return [f"guided-r{run}-{i:03d}" for i in range(self.n)]

    def click(self, run: int) -> str:
        return f"click-r{run}"

    def inventory(self) -> list[dict[str, str]]:
        out: list[dict[str, str]] = []
        for run in range(-1, self.runs):  # run -1: the warm-up
            out += [
                {"name": n, "driver": "simulated", "scenario": "tmsp-down"}
                for n in self.simulated(run)[: 2 if run < 0 else self.n]
            ]
            out += [
                {"name": n, "driver": "guided"}
                for n in self.guided(run)[: 2 if run < 0 else self.n]
            ]
            out.append({"name": self.click(run), "driver": "simulated", "scenario": "tmsp-down"})
        return out


def channel_of(name: str) -> str:
    return "C" + re.sub(r"[^A-Z0-9]", "X", name.upper())


class Lag:
    """The worst lag of this process's event loop (a 5 ms ticker) while it runs."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.005)
            self.worst = max(self.worst, time.perf_counter() - before - 0.005)

    def __enter__(self) -> Lag:
        self._task = asyncio.create_task(self._tick())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def wait_for(predicate: Callable[[], bool], within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.1)
    return predicate()


def questions_in(slack: TimedSlack, channels: set[str], start: int = 0) -> int:
    """Channels among ``channels`` where a question (a message with buttons) was posted."""
    found = {
        str(args.get("channel"))
        for _, method, args in slack.since(start)
        if method == "chat.postMessage" and is_question(args)
    }
    return len(found & channels)


async def open_question(
    slack: TimedSlack, http: Any, bot: BotProcess, name: str
) -> tuple[dict[str, Any], str]:
    """Run a case on ``name`` to its first question; (the question's args, its ts)."""
    channel = channel_of(name)
    body = command_body(name, OPERATOR, channel, f"{slack.url}/respond/{name}")
    ack = (await fire(http, bot.url, [body]))[0]
    assert ack.status == 200, ack

    def posted() -> bool:
        return questions_in(slack, {channel}) == 1

    if not await wait_for(posted, 60):
        raise RuntimeError(f"no question was posted for {name}")
    call = next(
        c for c in slack.posts() if c.args.get("channel") == channel and is_question(c.args)
    )
    return call.args, call.ts


def bodies(
    kind: str, fleet: Fleet, run: int, slack: TimedSlack, questions: dict[int, tuple[Any, str]]
) -> list[str]:
    respond = f"{slack.url}/respond/bench"
    if kind in ("check simulated", "check guided"):
        names = fleet.simulated(run) if kind == "check simulated" else fleet.guided(run)
        return [command_body(n, OPERATOR, channel_of(n), respond) for n in names]
    if kind == "help":
        return [command_body("help", OPERATOR, "CHELP", respond) for _ in range(fleet.n)]
    args, ts = questions[run]
    elements = buttons(args)
    channel, thread = str(args["channel"]), str(args.get("thread_ts") or ts)
    return [
        action_body(elements[i % len(elements)], f"U{i:07d}", channel, ts, thread, respond)
        for i in range(fleet.n)
    ]


def accepted(kind: str, acks: list[Ack]) -> int:
    """Answers that say what they should (the check was opened, the help shown)."""
    if kind.startswith("check"):
        return sum("Opening a check" in a.text for a in acks)
    if kind == "help":
        return sum("Known appliances" in a.text for a in acks)
    return sum(a.status == 200 for a in acks)


async def settle(
    kind: str, fleet: Fleet, run: int, slack: TimedSlack, server: BotProcess, start: int
) -> str:
    """Let the bot finish what the burst started (calls to Slack from index ``start`` on);
    what it did."""
    started = time.monotonic()
    note = ""
    if kind.startswith("check"):
        names = fleet.simulated(run) if kind == "check simulated" else fleet.guided(run)
        channels = {channel_of(n) for n in names}
        await wait_for(lambda: questions_in(slack, channels, start) == len(channels), 120)
        note = f"{questions_in(slack, channels, start)}/{len(channels)} questions posted, "
    await server.wait_idle(quiet_s=2.0)
    if kind == "click":
        calls = slack.since(start)
        refused = sum(m == "chat.postEphemeral" for _, m, _ in calls)
        updates = sum(m == "chat.update" for _, m, _ in calls)
        note = f"{refused} refused, {updates} chat.update, "
    return f"{note}settled in {time.monotonic() - started:.1f} s"


async def bench(args: argparse.Namespace) -> int:
    slack, runner = await start_slack()
    fleet = Fleet(args.runs, args.concurrency)
    with tempfile.TemporaryDirectory(prefix="ack-latency-") as tmp:
        workdir = Path(tmp)
        inventory = workdir / "inventory.yml"
        count = write_inventory(inventory, fleet.inventory())
        simulator = None
        if not args.embedded_simulator:  # the sensors in a process of their own, as real ones
            simulator = await BotProcess.simulator(dict(os.environ), workdir, inventory)
            served = [
                {**a, "simulator_url": simulator.url} if a.get("driver") == "simulated" else a
                for a in fleet.inventory()
            ]
            write_inventory(inventory, served)
        try:
            async with database(args.database, workdir / "bot.db", args.postgres) as url:
                return await measure(args, slack, fleet, workdir, inventory, count, url)
        except Unavailable as exc:
            print(f"cannot run on PostgreSQL: {exc}")
            return 2
        finally:
            await runner.cleanup()
            if simulator is not None:
                await simulator.stop()


async def measure(
    args: argparse.Namespace,
    slack: TimedSlack,
    fleet: Fleet,
    workdir: Path,
    inventory: Path,
    count: int,
    url: str,
) -> int:
    env = bot_env(slack, url, inventory, workdir)
    bot = await BotProcess.serve(env, workdir, "serve")
    port = free_port()
    argv = [sys.executable, __file__, "--bare-serve", str(port), "--slack-api",
            f"{slack.url}/api/", "--inventory", str(inventory)]  # fmt: skip
    bare = await BotProcess.start(argv, port, dict(env), workdir, "bare")
    servers = {"bare bolt": bare, "ddi-bot": bot}
    results: dict[tuple[str, str], list[Latency]] = {}
    accepted_of: dict[tuple[str, str], list[int]] = {}
    lags: dict[tuple[str, str], list[float]] = {}
    try:
        async with client() as http, Phases(url) as phases:
            # warm-up: imports, Bolt's auth.test, the first connections and transactions
            questions = {run: await open_question(slack, http, bot, fleet.click(run))
                         for run in range(-1, fleet.runs)}  # fmt: skip
            for server in servers.values():
                for kind in KINDS:
                    await fire(http, server.url, bodies(kind, Fleet(1, 2), -1, slack, questions))
                # and one untimed burst as wide as the measured ones: a process's first burst
                # of that many connections is 15-25 ms slower whatever it asks (the heap and
                # the sockets grow), which would otherwise fall on the first burst measured
                await fire(http, server.url, bodies("help", fleet, 0, slack, questions))
            await bot.wait_idle(quiet_s=2.0)
            print(
                f"ddi-bot serve (pid {bot.proc.pid}, {args.database}) and a bare Bolt app "
                f"(pid {bare.proc.pid}); inventory of {count} sensors; {fleet.n} requests "
                f"at once per burst; {args.runs} run(s)",
                flush=True,
            )
            for run in range(fleet.runs):
                order = list(servers) if run % 2 == 0 else list(servers)[::-1]
                for kind in KINDS:
                    for name in order:
                        server = servers[name]
                        batch = bodies(kind, fleet, run, slack, questions)
                        start = len(slack.calls)
                        with Lag() as lag:
                            acks = await fire(http, server.url, batch)
                        latency = Latency.of(acks)
                        results.setdefault((kind, name), []).append(latency)
                        accepted_of.setdefault((kind, name), []).append(accepted(kind, acks))
                        lags.setdefault((kind, name), []).append(lag.worst * 1000)
                        note = (
                            ""
                            if server is bare
                            else await settle(kind, fleet, run, slack, server, start)
                        )
                        if server is bare:
                            await asyncio.sleep(0.5)
                        print(
                            f"  run {run + 1} {kind:<16}{name:<10} p50 {latency.p50:7.1f}  "
                            f"p99 {latency.p99:7.1f}  max {latency.max:7.1f} ms  "
                            f"ok {accepted(kind, acks)}/{len(acks)}"
                            + (f"  ({note})" if note else ""),
                            flush=True,
                        )
            phase_counts: dict[str, int] = {}
            for phase in (await phases.phases()).values():
                phase_counts[phase] = phase_counts.get(phase, 0) + 1
            outbox = await phases.outbox()
    finally:
        code = await bot.stop()
        await bare.stop()
    report(args, results, accepted_of, lags)
    print(f"\ncases by phase at the end: {phase_counts}; outbox rows by status: {outbox}")
    print(f"ddi-bot serve exited with {code}; its log ({bot.log_path.name}), summarised:")
    for line in summarise_log(bot.log()):
        print(f"  {line}")
    if args.keep_log:
        args.keep_log.write_text(bot.log(), encoding="utf-8")
        print(f"  (kept in {args.keep_log})")
    return 0


def report(
    args: argparse.Namespace,
    results: dict[tuple[str, str], list[Latency]],
    accepted_of: dict[tuple[str, str], list[int]],
    lags: dict[tuple[str, str], list[float]],
) -> None:
    print(
        f"\nack latency (ms) of {args.concurrency} signed requests at once, median of "
        f"{args.runs} run(s); 'ok' = answers that say what they should, over all runs; "
        "sender lag = worst event-loop lag of the sending process during the burst (ms)"
    )
    head = f"{'burst':<17}{'server':<11}{'p50':>8}{'p99':>8}{'max':>8}{'ok':>10}{'lag':>7}"
    print(f"{head}  target p99 <= {TARGET_RATIO}x bare")
    for kind in KINDS:
        base = Latency.median(results[(kind, "bare bolt")])
        for name in ("bare bolt", "ddi-bot"):
            m = Latency.median(results[(kind, name)])
            ok = f"{sum(accepted_of[(kind, name)])}/{args.concurrency * args.runs}"
            lag = max(lags[(kind, name)])
            row = (f"{kind:<17}{name:<11}{m.p50:>8.1f}{m.p99:>8.1f}{m.max:>8.1f}{ok:>10}"
                   f"{lag:>7.0f}")  # fmt: skip
            if name == "ddi-bot":
                ratio = m.p99 / base.p99
                verdict = "met" if ratio <= TARGET_RATIO else "missed"
                row += f"  {ratio:.2f}x {verdict}"
            print(row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--concurrency", type=int, default=50, help="requests at once")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one run")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--postgres", default=POSTGRES_SERVER, help="PostgreSQL server (SQLAlchemy URL, no db)"
    )
    parser.add_argument("--keep-log", type=Path, help="copy the bot's stderr to this file")
    parser.add_argument(
        "--embedded-simulator",
        action="store_true",
        help="the bot's own embedded simulator (its work then competes with the answers)",
    )
    parser.add_argument("--bare-serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--slack-api", help=argparse.SUPPRESS)
    parser.add_argument("--inventory", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_serve:
        bare_serve(args.bare_serve, args.slack_api, args.inventory)
        return
    if args.quick:
        args.runs = 1
    sys.exit(asyncio.run(bench(args)))


if __name__ == "__main__":
    main()
