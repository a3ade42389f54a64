"""Several ``ddi-bot serve`` replicas on one PostgreSQL: a burst shared by two replicas beside
one replica alone, and how long a case waits after kill -9 of the replica running its step.

Everything is real: ``ddi-bot serve`` processes in HTTP mode, a ``ddi-bot simulator``
process for the sensors, a fresh PostgreSQL database per run (127.0.0.1:5432; the benchmark
stops, saying why, if it is not reachable), the Slack-like Web API of the tests in this
process, signed ``/ddi-check`` requests.

- **burst**: ``--sensors`` checks at once, each in its own channel, sent to one replica (the
  baseline), then split between two replicas (every other request to each); measured: the
  seconds until every case's first question is posted in Slack (a message with buttons),
  answers within Slack's 3 s, questions posted twice. Median of ``--runs``.
- **takeover**: one case whose packet capture (step 3) runs on replica A, A killed with -9,
  replica B running: the seconds from the kill until B has posted the capture's result, and B's
  own capture time inside it (``DDI_BOT_CAPTURE_SECONDS`` of B). Beside it, the baseline: the
  same kill with one replica, started again at once (what a supervisor does); its job is
  equally held by a worker that no longer beats, so it waits the same stall bound. Median of
  ``--runs``. The bound is ``DDI_BOT_STALL_SECONDS`` (``--stall``) + the takeover period
  (10 s) + the step itself.

    .venv/bin/python benchmarks/replicas.py                    # 200 sensors, stall 60 s
    .venv/bin/python benchmarks/replicas.py --quick            # 50 sensors, stall 10 s
    .venv/bin/python benchmarks/replicas.py --runs 3 --stall 20 --parts takeover

Whole-process figures are the wall-clock seconds above; the bot's CPU is not measured here
(``fleet_sweep.py`` does, for one replica).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slackload import (
    ACK_DEADLINE_S,
    OPERATOR,
    POSTGRES_SERVER,
    BotProcess,
    TimedSlack,
    Unavailable,
    action_body,
    bot_env,
    buttons,
    client,
    command_body,
    fire,
    fresh_postgres,
    is_question,
    start_slack,
    write_inventory,
)

TAKEOVER_PERIOD_S = 10  # bot.engine.jobs.TAKEOVER_EVERY


def channel(i: int) -> str:
    return f"C{i:08d}"


def sensors(n: int) -> list[dict[str, str]]:
    fleet = [
        {"name": f"ddi-fleet-{i:04d}", "driver": "simulated", "scenario": "tmsp-down"}
        for i in range(n)
    ]
    return [*fleet, {"name": "ddi-slow", "driver": "simulated", "scenario": "quiet"}]


@dataclass
class Setup:
    workdir: Path
    slack: TimedSlack
    inventory: Path  # the bot's: the sensors, at the simulator process
    simulator: BotProcess


@contextlib.asynccontextmanager
async def setup(n: int) -> AsyncIterator[Setup]:
    with tempfile.TemporaryDirectory(prefix="ddi-replicas-") as tmp:
        workdir = Path(tmp)
        slack, runner = await start_slack()
        served = workdir / "sensors.yml"
        write_inventory(served, sensors(n))
        simulator = await BotProcess.simulator({}, workdir, served)
        inventory = workdir / "inventory.yml"
        write_inventory(inventory, [{**a, "simulator_url": simulator.url} for a in sensors(n)])
        try:
            yield Setup(workdir, slack, inventory, simulator)
        finally:
            await simulator.stop()
            await runner.cleanup()


async def _replica(s: Setup, db: str, name: str, **extra: str) -> BotProcess:
    env = bot_env(s.slack, db, s.inventory, s.workdir, DDI_BOT_SLACK_POSTS_PER_SECOND="1",
                  **extra)  # fmt: skip
    return await BotProcess.serve(env, s.workdir, name)


def _questions(s: Setup, mark: int) -> dict[str, float]:
    """channel -> when its first question was posted (from call ``mark`` on)."""
    out: dict[str, float] = {}
    for t, method, args in s.slack.since(mark):
        if method == "chat.postMessage" and is_question(args):
            out.setdefault(str(args.get("channel")), t)
    return out


def _twice(s: Setup, mark: int) -> int:
    seen: dict[tuple[str, str], int] = {}
    for _, method, args in s.slack.since(mark):
        if method == "chat.postMessage" and is_question(args):
            key = (str(args.get("channel")), str(args.get("text")))
            seen[key] = seen.get(key, 0) + 1
    return sum(1 for n in seen.values() if n > 1)


@dataclass(frozen=True)
class Burst:
    replicas: int
    all_asked_s: float  # until every first question is in Slack
    late_acks: int  # answers slower than Slack's 3 s, or not 200
    asked: int
    twice: int


async def burst(n: int, replicas: int, stall: float) -> Burst:
    async with setup(n) as s, fresh_postgres(POSTGRES_SERVER) as db:
        bots = [await _replica(s, db, f"serve-{i}", DDI_BOT_STALL_SECONDS=str(stall))
                for i in range(replicas)]  # fmt: skip
        try:
            bodies = [
                command_body(f"ddi-fleet-{i:04d}", OPERATOR, channel(i), f"{s.slack.url}/r/{i}")
                for i in range(n)
            ]
            mark = len(s.slack.calls)
            start = time.monotonic()
            async with client() as http:
                answers = await asyncio.gather(
                    *(fire(http, bots[b].url, bodies[b::replicas]) for b in range(replicas))
                )
            acks = [a for part in answers for a in part]
            late = sum(a.status != 200 or a.seconds > ACK_DEADLINE_S for a in acks)
            deadline = start + 600
            while len(_questions(s, mark)) < n and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
            asked = _questions(s, mark)
            last = max(asked.values(), default=float("nan")) - start
            return Burst(replicas, last if len(asked) == n else float("nan"), late, len(asked),
                         _twice(s, mark))  # fmt: skip
        finally:
            for bot in bots:
                await bot.stop()


def _posted_in(s: Setup, where: str, words: str, mark: int) -> float | None:
    for t, method, args in s.slack.since(mark):
        if (
            method == "chat.postMessage"
            and args.get("channel") == where
            and words in str(args.get("text"))
        ):
            return t
    return None


async def _until(what: str, check: Any, within: float) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        await asyncio.sleep(0.05)
    raise RuntimeError(f"not within {within:.0f} s: {what}")


async def takeover(two: bool, stall: float) -> float:
    """Seconds from kill -9 of the replica capturing until the capture's result is posted."""
    where = "C0SLOW"
    async with setup(0) as s, fresh_postgres(POSTGRES_SERVER) as db:
        slow = await _replica(s, db, "a", DDI_BOT_STALL_SECONDS=str(stall),
                              DDI_BOT_CAPTURE_SECONDS="600")  # fmt: skip
        survivor: BotProcess | None = None
        try:
            async with client() as http:
                body = command_body("ddi-slow", OPERATOR, where, f"{s.slack.url}/r/slow")
                (ack,) = await fire(http, slow.url, [body])
                assert ack.status == 200, ack
                question = await _until(
                    "the traffic question",
                    lambda: next(
                        (c for c in s.slack.prompts() if c.args.get("channel") == where), None
                    ),
                    60,
                )
                capture = next(b for b in buttons(question.args) if "Capture" in b["text"]["text"])
                action = {"action_id": capture["action_id"], "value": capture["value"],
                          "block_id": question.args["blocks"][-1]["block_id"]}  # fmt: skip
                click = action_body(
                    action,
                    OPERATOR,
                    where,
                    question.ts,
                    str(question.args.get("thread_ts")),
                    f"{s.slack.url}/r/c",
                )
                (clicked,) = await fire(http, slow.url, [click])
                assert clicked.status == 200, clicked
            await asyncio.sleep(1.0)  # the capture has started on a
            extra = {"DDI_BOT_STALL_SECONDS": str(stall), "DDI_BOT_CAPTURE_SECONDS": "1"}
            if two:
                survivor = await _replica(s, db, "b", **extra)
            mark = len(s.slack.calls)
            slow.proc.send_signal(signal.SIGKILL)
            killed = time.monotonic()
            await slow.proc.wait()
            if not two:
                survivor = await _replica(s, db, "a-again", **extra)
            done = await _until("the capture's result", lambda: _posted_in(
                s, where, "Capture summary", mark), stall + 120)  # fmt: skip
            return float(done - killed)
        finally:
            for bot in (slow, survivor):
                if bot is not None:
                    await bot.stop()


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


async def bench(args: argparse.Namespace) -> int:
    try:
        async with fresh_postgres(POSTGRES_SERVER):
            pass
    except Unavailable as exc:
        print(f"replicas: {exc}")
        return 2
    if "burst" in args.parts:
        print(f"burst: {args.sensors} /ddi-check at once, each in its own channel, "
              f"median of {args.runs}")  # fmt: skip
        print(f"{'replicas':>8}  {'all asked (s)':>13}  {'late acks':>9}  {'asked':>6}  twice")
        for replicas in (1, 2):
            runs = [await burst(args.sensors, replicas, args.stall) for _ in range(args.runs)]
            print(f"{replicas:>8}  {_median([r.all_asked_s for r in runs]):>13.1f}  "
                  f"{sum(r.late_acks for r in runs):>9}  {min(r.asked for r in runs):>6}  "
                  f"{sum(r.twice for r in runs)}")  # fmt: skip
    if "takeover" in args.parts:
        bound = args.stall + TAKEOVER_PERIOD_S
        print(f"takeover after kill -9 (DDI_BOT_STALL_SECONDS={args.stall:g}; bound "
              f"{bound:g} s + the step, here a 1 s capture), median of {args.runs}")  # fmt: skip
        for two, label in ((False, "one replica, started again at once"),
                           (True, "two replicas, the other one takes over")):  # fmt: skip
            times = [await takeover(two, args.stall) for _ in range(args.runs)]
            shown = ", ".join(f"{t:.1f}" for t in times)
            print(f"  {label:<40} {_median(times):6.1f} s   (runs: {shown})")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sensors", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--stall", type=float, default=60.0, help="DDI_BOT_STALL_SECONDS")
    parser.add_argument("--parts", nargs="+", default=["burst", "takeover"],
                        choices=["burst", "takeover"])  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="50 sensors, stall 10 s, 1 run")
    args = parser.parse_args()
    if args.quick:
        args.sensors, args.stall, args.runs = 50, 10.0, 1
    sys.exit(asyncio.run(bench(args)))


if __name__ == "__main__":
    main()
