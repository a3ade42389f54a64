"""A real simulator on 127.0.0.1 (free port), one appliance per scenario: ``ddi-<scenario>``."""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

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


@pytest.fixture
def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """(certificate, key) for 127.0.0.1, made with the openssl command line tool."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key
