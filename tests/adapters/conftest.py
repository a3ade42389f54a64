"""A real simulator on 127.0.0.1 (free port), one appliance per scenario: ``ddi-<scenario>``."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest

from bot.inventory import SCENARIOS
from bot.simulator.server import create_app, start_simulator

REBOOT_SECONDS = 0.5


@pytest.fixture
async def simulator_url() -> AsyncIterator[str]:
    app = create_app([(f"ddi-{s}", s) for s in SCENARIOS], reboot_seconds=REBOOT_SECONDS)
    handle = await start_simulator(app, "127.0.0.1", 0)
    try:
        yield handle.url
    finally:
        await handle.stop()


@pytest.fixture
def closed_port() -> int:
    """A local port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
