"""The fleet watch on PostgreSQL with two replicas: the sweep is a procrastinate periodic job,
run once per period across replicas, and an alert is raised (and posted) once."""

from __future__ import annotations

import asyncio
import json
import socket
from dataclasses import replace
from pathlib import Path

from sqlalchemy import select, text
from test_engine_durability import TIMING, RecordingNotifier

from bot.engine.jobs import SWEEP
from bot.inventory import Appliance, Inventory
from bot.runtime import Runtime, start_runtime
from bot.settings import Settings
from storage.models import AlertRow, OutboxRow


def _closed_port() -> int:
    """A port on which nothing listens (the console of a sensor that is down)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _replica(settings: Settings, inventory: Inventory, tmp: Path) -> Runtime:
    return await start_runtime(
        settings, RecordingNotifier(), inventory=inventory, timing=TIMING,
        artifacts=tmp / "artifacts", timer_poll=0.05,
    )  # fmt: skip


async def test_two_replicas_sweep_once_per_period_and_alert_once(
    postgres_url: str, tmp_path: Path
) -> None:
    inventory = Inventory(
        (Appliance(name="ddi-down-1", console=f"127.0.0.1:{_closed_port()}", channel="C0OPS"),)
    )
    settings = replace(
        Settings(), database_url=postgres_url, watch_seconds=1, appliance_timeout=0.5,
        posts_per_second=100.0, stall_seconds=5.0,
    )  # fmt: skip
    one = await _replica(settings, inventory, tmp_path)
    two = await _replica(settings, inventory, tmp_path)
    try:
        await asyncio.sleep(4.5)  # four periods or so
        async with one.engine.sessions() as session:
            rows = await session.execute(
                text(
                    "SELECT args FROM procrastinate_jobs WHERE task_name = :sweep "
                    "AND status::text = 'succeeded'"
                ),
                {"sweep": SWEEP},
            )
            stamps = [
                (args if isinstance(args, dict) else json.loads(args))["timestamp"]
                for (args,) in rows
            ]
            alerts = list((await session.execute(select(AlertRow))).scalars())
            posts = list(
                (
                    await session.execute(select(OutboxRow).where(OutboxRow.alert_id.is_not(None)))
                ).scalars()
            )
        assert len(stamps) >= 2, stamps  # swept every period...
        assert len(stamps) == len(set(stamps))  # ...and each period once, by one replica
        (alert,) = alerts
        assert (alert.appliance, alert.condition, alert.channel) == (
            "ddi-down-1",
            "console",
            "C0OPS",
        )
        assert [(p.kind, p.status) for p in posts] == [("root", "sent")]  # posted once
    finally:
        await one.stop(drain=False)
        await two.stop(drain=False)


async def test_a_slow_sweep_is_not_overtaken_by_the_next(postgres_url: str, tmp_path: Path) -> None:
    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # accepts, never speaks TLS: the probe waits for its timeout

    console = await asyncio.start_server(hang, "127.0.0.1", 0)
    port = console.sockets[0].getsockname()[1]
    inventory = Inventory((Appliance(name="ddi-slow-1", console=f"127.0.0.1:{port}"),))
    settings = replace(
        Settings(), database_url=postgres_url, watch_seconds=1, appliance_timeout=1.5,
        posts_per_second=100.0, stall_seconds=5.0, alert_channel="C0OPS",
    )  # fmt: skip
    one = await _replica(settings, inventory, tmp_path)
    two = await _replica(settings, inventory, tmp_path)
    try:
        await asyncio.sleep(6.0)  # each sweep takes longer than the period
        async with one.engine.sessions() as session:
            rows = await session.execute(
                text(
                    "SELECT e.job_id, e.type::text, e.at FROM procrastinate_events e "
                    "JOIN procrastinate_jobs j ON j.id = e.job_id WHERE j.task_name = :sweep "
                    "AND e.type::text IN ('started', 'succeeded', 'failed') ORDER BY e.at"
                ),
                {"sweep": SWEEP},
            )
            events = list(rows)
    finally:
        await one.stop(drain=False)
        await two.stop(drain=False)
        console.close()
        await console.wait_closed()
    running = 0
    most = 0
    for _job, kind, _at in events:
        running += 1 if kind == "started" else -1
        most = max(most, running)
    assert sum(1 for _j, kind, _a in events if kind == "succeeded") >= 2
    assert most == 1, events  # one sweep at a time, across both replicas
