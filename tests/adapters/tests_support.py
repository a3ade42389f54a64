"""Helpers the adapter tests share."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.drivers.base import (
    CaptureExport,
    ConnectionTestResult,
    DebugBundle,
    DetectionCount,
)
from bot.engine.context import Context, Drivers, EngineConfig
from bot.engine.outbox import queue
from bot.engine.outgoing import post
from bot.inventory import Inventory
from bot.presenter import TERMINAL, Message
from storage import cases
from storage.db import Database, make_engine, upgrade


class StubDriver:
    """A driver of every step that does none of them: tests give the ones they need."""

    async def test_connection(self) -> ConnectionTestResult:
        raise NotImplementedError

    async def query_detections(self, start: datetime, end: datetime) -> DetectionCount:
        raise NotImplementedError

    async def capture(self, seconds: float) -> CaptureExport:
        raise NotImplementedError

    async def export_debug_logs(self) -> DebugBundle:
        raise NotImplementedError

    async def reboot(self) -> None:
        raise NotImplementedError

    async def is_up(self) -> bool:
        return True

    async def aclose(self) -> None:
        pass


@asynccontextmanager
async def engine_context(
    database_url: str,
    tmp_path: Path,
    inventory: Inventory,
    drivers: Drivers | None,
    clock: Callable[[], datetime] | None = None,
    **config: Any,
) -> AsyncIterator[Context]:
    """The engine's plain dependencies on a fresh database, the inventory's appliances in it."""
    db = Database(make_engine(database_url))
    await upgrade(db.engine)
    async with db.write() as session:
        for appliance in inventory.appliances:
            await cases.upsert_appliance(
                session, appliance.name, appliance.driver, None, datetime.now(UTC)
            )
    try:
        ctx = Context(
            db=db,
            inventory=inventory,
            drivers=drivers,  # type: ignore[arg-type]
            style=TERMINAL,
            config=EngineConfig(artifacts=tmp_path, **config),
        )
        if clock is not None:
            ctx.clock = clock
        yield ctx
    finally:
        await db.dispose()


async def post_rows(ctx: Context, case_id: int, texts: list[str]) -> None:
    """Queue thread messages for a case, as transitions would."""
    async with ctx.db.write() as session:
        row = await cases.lock(session, case_id)
        assert row is not None
        await queue(
            session,
            case_id=case_id,
            channel=row.channel or "",
            reply_url=None,
            items=[post(Message(text)) for text in texts],
            now=ctx.clock(),
        )
