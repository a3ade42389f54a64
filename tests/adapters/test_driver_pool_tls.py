"""A DriverPool over real HTTPS: one SSL context and one client for a whole simulator fleet."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Any

import pytest

from bot.drivers.base import DriverContext
from bot.drivers.pool import DriverPool
from bot.drivers.registry import make_driver
from bot.drivers.simulated import SimulatedDriver
from bot.errors import ApplianceTLSError
from bot.inventory import Appliance
from bot.simulator.server import create_app, start_simulator

NAMES = [f"ddi-tls-{i}" for i in range(6)]


async def test_a_fleet_shares_one_ssl_context_and_client(
    self_signed: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = self_signed
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    handle = await start_simulator(
        create_app([(name, "healthy") for name in NAMES]), ssl_context=server_tls
    )
    loaded: list[Any] = []
    real = ssl.create_default_context

    def counting(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        loaded.append(kwargs.get("cafile"))
        return real(*args, **kwargs)

    monkeypatch.setattr(ssl, "create_default_context", counting)
    pool = DriverPool(DriverContext(simulator_url=handle.url))
    try:
        appliances = [Appliance(n, "simulated", tls_ca_file=str(cert)) for n in NAMES]
        drivers = [pool.get(a) for a in appliances]
        results = await asyncio.gather(*(d.test_connection() for d in drivers))
        assert all(r.verified for r in results)
        assert [pool.get(a) for a in appliances] == drivers  # the same drivers, again
        assert loaded.count(str(cert)) == 1  # one CA file, one context, for six appliances
        clients = {id(d._client) for d in drivers if isinstance(d, SimulatedDriver)}
        assert len(clients) == 1

        # a driver built and closed by its caller leaves the pooled ones working
        own = make_driver(appliances[0], DriverContext(simulator_url=handle.url))
        assert (await own.test_connection()).verified
        await own.aclose()
        assert all(await asyncio.gather(*(d.is_up() for d in drivers)))
        assert loaded.count(str(cert)) == 1

        # without the CA file: the same simulator URL, a different client, and no trust
        untrusted = pool.get(Appliance(NAMES[0], "simulated"))
        assert untrusted is not drivers[0] and isinstance(untrusted, SimulatedDriver)
        assert id(untrusted._client) not in clients
        with pytest.raises(ApplianceTLSError, match="CERTIFICATE_VERIFY_FAILED"):
            await untrusted.test_connection()
        assert (await drivers[1].test_connection()).verified
    finally:
        await pool.aclose()
        await handle.stop()
    assert all(isinstance(d, SimulatedDriver) and d.closed for d in drivers)
