"""Shared pieces of the Slack load benchmarks (``ack_latency.py``, ``fleet_sweep.py``).

- ``TimedSlack``: ``tests/scenarios/fakeslack.FakeSlack`` (imported, not copied), which also
  notes when it handled each call, served in this process on 127.0.0.1;
- ``BotProcess``: a real ``ddi-bot serve`` subprocess in HTTP mode (or any other command),
  its CPU seconds (user+sys, ``/proc/PID/stat``), peak RSS (``VmHWM``) and its stderr, kept in
  a file and summarised;
- signed requests fired all at once (``fire``), their latency figures (``Latency``);
- an inventory file, a fresh PostgreSQL database per run, and a poller of ``cases.phase``.

Not a benchmark itself: run ``ack_latency.py`` or ``fleet_sweep.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import sqlite3
import statistics
import sys
import time
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, ROOT / "tests" / "scenarios"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from fakeslack import FakeSlack, action_body, command_body, sign  # noqa: E402

__all__ = ["action_body", "command_body", "sign"]

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench-token"
OPERATOR = "U0BENCHOP"
APPROVER = "U0BENCHAPPROVER"
# the phases in which a case waits for a person (its first question), as stored in cases.phase
AWAIT_PREFIX = "await_"
CLOSED = ("resolved", "escalated", "abandoned")
POSTGRES_SERVER = "postgresql://postgres@127.0.0.1:5432/"
ACK_DEADLINE_S = 3.0  # Slack's


# --- the Slack-like Web API ---------------------------------------------------------------


@dataclass
class TimedSlack(FakeSlack):
    """FakeSlack that also notes when (monotonic seconds) it answered each recorded call:
    ``times[i]`` belongs to ``calls[i]`` (both appended in the same step, nothing between)."""

    times: list[float] = field(default_factory=list)

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        result = super()._answer(method, args)
        self.times.append(time.monotonic())
        return result

    def since(self, start: int) -> list[tuple[float, str, dict[str, Any]]]:
        """(time, method, args) of the calls from index ``start`` on."""
        return [
            (t, c.method, c.args)
            for t, c in zip(self.times[start:], self.calls[start:], strict=True)
        ]


async def start_slack() -> tuple[TimedSlack, web.AppRunner]:
    slack = TimedSlack(token=TOKEN)
    runner = web.AppRunner(slack.app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, backlog=1024).start()
    host, port = runner.addresses[0][:2]
    slack.url = f"http://{host}:{port}"
    return slack, runner


def is_question(args: dict[str, Any]) -> bool:
    return any(b.get("type") == "actions" for b in args.get("blocks") or [])


def buttons(args: dict[str, Any]) -> list[dict[str, Any]]:
    """The buttons of a posted question."""
    found: list[dict[str, Any]] = []
    for block in args.get("blocks") or []:
        if block.get("type") == "actions":
            found.extend(e for e in block.get("elements", []) if e.get("type") == "button")
    return found


def max_in_window(times: Sequence[float], window: float) -> int:
    """The most events in any interval of ``window`` seconds (a sliding window)."""
    ordered = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(ordered):
        while ordered[lo] <= t - window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


@dataclass(frozen=True)
class Pacing:
    channels: int
    posts: int
    max_1s: int  # the most chat.postMessage calls in one channel in any 1-second window
    max_10s: float  # the same over 10-second windows, per second (the sustained rate)
    median_max_1s: float  # median over channels of each channel's 1-second maximum


def pacing(calls: Iterable[tuple[float, str, dict[str, Any]]]) -> Pacing:
    """chat.postMessage per second per channel."""
    per_channel: dict[str, list[float]] = defaultdict(list)
    for t, method, args in calls:
        if method == "chat.postMessage":
            per_channel[str(args.get("channel"))].append(t)
    if not per_channel:
        return Pacing(0, 0, 0, 0.0, 0.0)
    ones = [max_in_window(ts, 1.0) for ts in per_channel.values()]
    tens = [max_in_window(ts, 10.0) / 10 for ts in per_channel.values()]
    posts = sum(len(ts) for ts in per_channel.values())
    return Pacing(len(per_channel), posts, max(ones), max(tens), statistics.median(ones))


# --- the bot (or another server) in a subprocess -------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bot_env(
    slack: FakeSlack, database_url: str, inventory: Path, workdir: Path, **extra: str
) -> dict[str, str]:
    """The environment of ``ddi-bot serve`` in HTTP mode against the fake Slack."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DDI_BOT_"))}
    env.update(
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=f"{slack.url}/api/",
        DDI_BOT_DATABASE_URL=database_url,
        DDI_BOT_INVENTORY=str(inventory),
        DDI_BOT_APPROVERS=APPROVER,
        DDI_BOT_APPLIANCE_TIMEOUT="5",
        DDI_BOT_CAPTURE_SECONDS="1",
        DDI_BOT_DATA_DIR=str(workdir / "data"),
    )
    env.update(extra)
    return env


_CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class BotProcess:
    """A server in a subprocess: stdout and stderr go to a file (never a pipe it could fill)."""

    proc: asyncio.subprocess.Process
    url: str
    log_path: Path

    @classmethod
    async def start(
        cls, argv: Sequence[str], port: int, env: dict[str, str], cwd: Path, name: str
    ) -> BotProcess:
        log_path = cwd / f"{name}.log"
        with log_path.open("wb") as log:
            proc = await asyncio.create_subprocess_exec(
                *argv, env=env, cwd=cwd, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log
            )
        bot = cls(proc, f"http://127.0.0.1:{port}", log_path)
        await bot.wait_up()
        return bot

    @classmethod
    async def simulator(cls, env: dict[str, str], cwd: Path, inventory: Path) -> BotProcess:
        """``ddi-bot simulator`` for the inventory's simulated sensors, in a process of its
        own: the bot's CPU figures are then the bot's alone."""
        port = free_port()
        argv = [sys.executable, "-m", "bot", "simulator", "--host", "127.0.0.1", "--port",
                str(port), "--reboot-seconds", "1"]  # fmt: skip
        return await cls.start(argv, port, {**env, "DDI_BOT_INVENTORY": str(inventory)}, cwd,
                               "simulator")  # fmt: skip

    @classmethod
    async def serve(cls, env: dict[str, str], cwd: Path, name: str = "serve") -> BotProcess:
        port = free_port()
        argv = [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)]
        return await cls.start(argv, port, env, cwd, name)

    async def wait_up(self, within: float = 60.0) -> None:
        deadline = time.monotonic() + within
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if self.proc.returncode is not None:
                    break
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    async with http.get(f"{self.url}/healthz") as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(0.1)
        tail = self.log_path.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{self.log_path.name}: nothing answered at {self.url}\n{tail}")

    def cpu_seconds(self) -> float:
        """user + sys CPU seconds of the process itself (not its children)."""
        stat = Path(f"/proc/{self.proc.pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / _CLK_TCK  # utime, stime

    def memory_mb(self) -> dict[str, float]:
        """VmHWM (peak RSS) and VmRSS, in MB."""
        out: dict[str, float] = {}
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                out[key] = int(value.split()[0]) / 1024
        return out

    async def wait_idle(
        self, share: float = 0.03, quiet_s: float = 1.0, within: float = 120.0
    ) -> float:
        """Wait until the process has used under ``share`` of a CPU over the last ``quiet_s``
        seconds; the seconds waited. (Over the whole window, not per sample: the kernel counts
        CPU in ticks of 10 ms, so one tick of a periodic poll makes any 0.25 s sample look busy,
        and a process idling at 1 % would never seem quiet.)"""
        started = time.monotonic()
        samples = deque([(started, self.cpu_seconds())])
        while time.monotonic() - started < within:
            await asyncio.sleep(0.25)
            now, cpu = time.monotonic(), self.cpu_seconds()
            samples.append((now, cpu))
            while len(samples) > 1 and now - samples[1][0] >= quiet_s:
                samples.popleft()  # the oldest sample still at least quiet_s old stays
            since, cpu_then = samples[0]
            if now - since >= quiet_s and cpu - cpu_then <= share * (now - since):
                return now - started
        return time.monotonic() - started

    async def stop(self, within: float = 60.0) -> int:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), within)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        assert self.proc.returncode is not None
        return self.proc.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


_LINE = re.compile(r"^\S+ \S+ (DEBUG|INFO|WARNING|ERROR|CRITICAL) (\S+): (.*)$")
_NUMBERS = re.compile(r"\d+(\.\d+)?")


def summarise_log(text: str, limit: int = 12) -> list[str]:
    """Lines per level, then each distinct WARNING/ERROR message (digits folded to N) with
    how often it came, and the exceptions of the tracebacks."""
    levels: Counter[str] = Counter()
    messages: Counter[str] = Counter()
    exceptions: Counter[str] = Counter()
    lines = text.splitlines()
    for i, line in enumerate(lines):
        match = _LINE.match(line)
        if match:
            level, logger, message = match.groups()
            levels[level] += 1
            if level in ("WARNING", "ERROR", "CRITICAL"):
                messages[f"{level} {logger}: {_NUMBERS.sub('N', message)[:140]}"] += 1
        elif line.strip() and not line.startswith("Traceback"):
            levels["continuation lines"] += 1  # continuations: Bolt's suggestions, traceback frames
        elif line.startswith("Traceback"):
            levels["traceback"] += 1
            j = i + 1
            while j < len(lines) and (lines[j].startswith((" ", "\t")) or not lines[j]):
                j += 1
            if j < len(lines):
                exceptions[_NUMBERS.sub("N", lines[j])[:160]] += 1
    out = [", ".join(f"{n} {level}" for level, n in sorted(levels.items())) or "(empty)"]
    out += [f"{n:>5} x {m}" for m, n in messages.most_common(limit)]
    out += [f"{n:>5} x raised: {e}" for e, n in exceptions.most_common(limit)]
    return out


# --- signed requests, all at once ----------------------------------------------------------


@dataclass(frozen=True)
class Ack:
    sent: float  # monotonic
    seconds: float  # from just before the request to the whole answer
    connect: float  # of which opening the TCP connection (a full listen backlog shows here)
    status: int
    text: str


async def _connect_started(_s: Any, ctx: Any, _p: Any) -> None:
    ctx.trace_request_ctx["connect"] = -time.monotonic()


async def _connect_done(_s: Any, ctx: Any, _p: Any) -> None:
    ctx.trace_request_ctx["connect"] += time.monotonic()


def client() -> aiohttp.ClientSession:
    """A client like many Slack senders: a connection per request, no limit on how many."""
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    trace = aiohttp.TraceConfig()
    trace.on_connection_create_start.append(_connect_started)
    trace.on_connection_create_end.append(_connect_done)
    return aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=60), trace_configs=[trace]
    )


async def post_signed(http: aiohttp.ClientSession, url: str, body: str) -> Ack:
    headers = sign(SECRET, body)
    timing: dict[str, float] = {"connect": 0.0}
    sent = time.monotonic()
    try:
        async with http.post(
            f"{url}/slack/events", data=body.encode(), headers=headers, trace_request_ctx=timing
        ) as r:
            text = await r.text()
            status = r.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        text, status = f"{type(exc).__name__}: {exc}", 0
    return Ack(sent, time.monotonic() - sent, max(0.0, timing["connect"]), status, text)


async def fire(http: aiohttp.ClientSession, url: str, bodies: Sequence[str]) -> list[Ack]:
    """Every request at once; the answers in the same order."""
    return list(await asyncio.gather(*(post_signed(http, url, b) for b in bodies)))


def quantile(values: Sequence[float], share: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default)."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = share * (len(ordered) - 1)
    lo = int(position)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (position - lo)


@dataclass(frozen=True)
class Latency:
    p50: float  # ms
    p99: float
    max: float
    failed: int  # not HTTP 200

    @classmethod
    def of(cls, acks: Sequence[Ack]) -> Latency:
        ms = [a.seconds * 1000 for a in acks]
        failed = sum(a.status != 200 for a in acks)
        return cls(quantile(ms, 0.50), quantile(ms, 0.99), max(ms), failed)

    @classmethod
    def median(cls, runs: Sequence[Latency]) -> Latency:
        return cls(
            statistics.median(r.p50 for r in runs),
            statistics.median(r.p99 for r in runs),
            statistics.median(r.max for r in runs),
            sum(r.failed for r in runs),
        )


# --- inventory and databases ---------------------------------------------------------------


def write_inventory(path: Path, appliances: Iterable[dict[str, str]]) -> int:
    """An inventory file of ``appliances`` (field -> value); how many."""
    lines, n = ["appliances:"], 0
    for appliance in appliances:
        first = True
        for key, value in appliance.items():
            lines.append(f"  {'-' if first else ' '} {key}: {value}")
            first = False
        n += 1
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return n


class Unavailable(Exception):
    """PostgreSQL is not reachable: the reason is the message."""


def _dsn(url: str, database: str) -> str:
    """A libpq URL (psycopg's) of ``database`` on the server of a SQLAlchemy URL."""
    rest = url.split("://", 1)[1]
    return "postgresql://" + rest.rstrip("/") + "/" + database


@contextlib.asynccontextmanager
async def fresh_postgres(server: str = POSTGRES_SERVER) -> AsyncIterator[str]:
    """A new, empty database on ``server`` (a SQLAlchemy URL without a database), dropped
    afterwards; its SQLAlchemy URL."""
    name = f"ddi_bench_{uuid.uuid4().hex[:10]}"
    try:
        admin = await asyncio.wait_for(
            psycopg.AsyncConnection.connect(_dsn(server, "postgres"), autocommit=True), 5
        )
    except Exception as exc:
        raise Unavailable(f"PostgreSQL at {server} is not reachable: {exc!r}") from None
    async with admin:
        await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.rstrip("/") + "/" + name
    finally:
        admin = await psycopg.AsyncConnection.connect(_dsn(server, "postgres"), autocommit=True)
        async with admin:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.asynccontextmanager
async def database(
    kind: str, sqlite_path: Path, server: str = POSTGRES_SERVER
) -> AsyncIterator[str]:
    """The SQLAlchemy URL of a fresh database: a SQLite file at ``sqlite_path``, or a new
    PostgreSQL database on ``server`` (dropped afterwards; ``Unavailable`` if unreachable)."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{sqlite_path}"
        return
    async with fresh_postgres(server) as url:
        yield url


class Phases:
    """Reads ``cases`` (appliance, phase) and the outbox's pending rows from the bot's database,
    with a connection of its own (SQLite in WAL mode: readers never block the bot's writes)."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self._pg: Any = None
        self._sqlite: sqlite3.Connection | None = None

    async def __aenter__(self) -> Phases:
        if self.url.startswith("sqlite"):
            path = self.url.split(":///", 1)[1]
            self._sqlite = sqlite3.connect(
                f"file:{path}?mode=ro", uri=True, check_same_thread=False, timeout=30
            )
        else:
            database = self.url.rsplit("/", 1)[1]
            self._pg = await psycopg.AsyncConnection.connect(
                _dsn(self.url.rsplit("/", 1)[0], database), autocommit=True
            )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
        if self._pg is not None:
            await self._pg.close()

    async def _rows(self, sql: str) -> list[tuple[Any, ...]]:
        if self._sqlite is not None:
            connection = self._sqlite
            return await asyncio.to_thread(lambda: connection.execute(sql).fetchall())
        cursor = await self._pg.execute(sql)
        return [tuple(r) for r in await cursor.fetchall()]

    async def phases(self) -> dict[str, str]:
        """appliance -> phase of its newest case."""
        rows = await self._rows("SELECT appliance, phase FROM cases ORDER BY id")
        return {str(a): str(p) for a, p in rows}

    async def outbox(self) -> dict[str, int]:
        """Outbox rows by status; empty for a bot without an outbox (an older commit)."""
        try:
            rows = await self._rows("SELECT status, COUNT(*) FROM outbox GROUP BY status")
        except Exception as exc:  # sqlite3.OperationalError / psycopg's UndefinedTable
            if "outbox" not in str(exc):
                raise
            return {}
        return {str(s): int(n) for s, n in rows}

    async def watch(
        self,
        names: Iterable[str],
        start: float,
        within: float,
        every: float = 0.2,
    ) -> dict[str, tuple[float, str]]:
        """Poll until every one of ``names`` has a case waiting for a person (``await_*``) or
        closed; name -> (seconds from ``start`` when first seen so, to ``every``; the phase)."""
        waiting = set(names)
        seen: dict[str, tuple[float, str]] = {}
        deadline = time.monotonic() + within
        while waiting and time.monotonic() < deadline:
            phases = await self.phases()
            now = time.monotonic() - start
            for name in list(waiting):
                phase = phases.get(name, "")
                if phase.startswith(AWAIT_PREFIX) or phase in CLOSED:
                    seen[name] = (now, phase)
                    waiting.discard(name)
            if waiting:
                await asyncio.sleep(every)
        return seen
