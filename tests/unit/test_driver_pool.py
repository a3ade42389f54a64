"""DriverPool: one driver per appliance, rebuilt when its entry changes; shared TLS set-up."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import ssl
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import certifi
import pytest

from bot.drivers import registry
from bot.drivers.base import (
    CaptureExport,
    ConnectionTestResult,
    DebugBundle,
    DetectionCount,
    Driver,
    DriverContext,
)
from bot.drivers.pool import DriverPool
from bot.drivers.registry import make_driver
from bot.drivers.simulated import SimulatedDriver, shared_ssl_context
from bot.errors import ConfigError
from bot.inventory import Appliance

CONTEXT = DriverContext(simulator_url="http://127.0.0.1:9")


class FakeDriver:
    def __init__(self, appliance: Appliance, context: DriverContext) -> None:
        self.appliance = appliance
        self.closes = 0

    async def test_connection(self) -> ConnectionTestResult:
        return ConnectionTestResult(True, "Verified Connection")

    async def query_detections(self, start: datetime, end: datetime) -> DetectionCount:
        return DetectionCount(0, start, end)

    async def capture(self, seconds: float) -> CaptureExport:
        return CaptureExport("c.zip", b"")

    async def export_debug_logs(self) -> DebugBundle:
        return DebugBundle("d.zip", b"")

    async def reboot(self) -> None:
        return None

    async def is_up(self) -> bool:
        return True

    async def aclose(self) -> None:
        self.closes += 1


class Factory:
    def __init__(self) -> None:
        self.built: list[FakeDriver] = []

    def __call__(self, appliance: Appliance, context: DriverContext) -> Driver:
        if appliance.driver == "broken":
            raise ConfigError(f"appliance {appliance.name!r}: broken")
        driver = FakeDriver(appliance, context)
        self.built.append(driver)
        return driver


@pytest.fixture
def count_ssl_contexts(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The ``cafile`` of every ``ssl.create_default_context`` call from now on."""
    calls: list[Any] = []
    real = ssl.create_default_context

    def counting(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        calls.append(kwargs.get("cafile"))
        return real(*args, **kwargs)

    monkeypatch.setattr(ssl, "create_default_context", counting)
    return calls


@pytest.fixture
def fresh_entry_points() -> Iterator[None]:
    registry.refresh_drivers()
    yield
    registry.refresh_drivers()


async def settle(done: Callable[[], bool]) -> None:
    for _ in range(20):  # a few loop turns, not a time limit
        if done():
            return
        await asyncio.sleep(0)


async def test_same_driver_for_the_same_appliance() -> None:
    factory = Factory()
    pool = DriverPool(CONTEXT, factory)
    a, b = Appliance("ddi-a", "simulated"), Appliance("ddi-b", "simulated")
    first = pool.get(a)
    assert pool.get(a) is first and pool.get(Appliance("ddi-a", "simulated")) is first
    assert pool.get(b) is not first and len(factory.built) == 2
    await pool.aclose()


async def test_a_changed_entry_is_rebuilt_and_the_old_driver_closed() -> None:
    factory = Factory()
    pool = DriverPool(CONTEXT, factory)
    old_entry = Appliance("ddi-a", "simulated", scenario="healthy")
    old = pool.get(old_entry)
    new = pool.get(dataclasses.replace(old_entry, scenario="quiet"))
    assert new is not old and len(factory.built) == 2
    await settle(lambda: factory.built[0].closes > 0)
    assert factory.built[0].closes == 1 and factory.built[1].closes == 0
    assert pool.get(dataclasses.replace(old_entry, scenario="quiet")) is new
    await pool.aclose()
    assert [d.closes for d in factory.built] == [1, 1]


async def test_a_broken_new_entry_raises_and_still_closes_the_old_driver() -> None:
    factory = Factory()
    pool = DriverPool(CONTEXT, factory)
    pool.get(Appliance("ddi-a", "simulated"))
    with pytest.raises(ConfigError, match="broken"):
        pool.get(Appliance("ddi-a", "broken"))
    await settle(lambda: factory.built[0].closes > 0)
    assert factory.built[0].closes == 1
    assert pool.get(Appliance("ddi-a", "simulated")) is factory.built[1]
    await pool.aclose()


async def test_a_driver_someone_closed_is_built_again() -> None:
    pool = DriverPool(CONTEXT)
    appliance = Appliance("ddi-a", "simulated")
    first = pool.get(appliance)
    await first.aclose()  # callers must not; if one does, the pool does not hand it out again
    second = pool.get(appliance)
    assert second is not first and isinstance(second, SimulatedDriver) and not second.closed
    await pool.aclose()


async def test_aclose_closes_every_driver_once() -> None:
    factory = Factory()
    pool = DriverPool(CONTEXT, factory)
    for name in ("ddi-a", "ddi-b", "ddi-c"):
        pool.get(Appliance(name, "simulated"))
    pool.get(Appliance("ddi-a", "guided"))  # replaces ddi-a's first driver
    await pool.aclose()
    await pool.aclose()
    assert [d.closes for d in factory.built] == [1, 1, 1, 1]
    with pytest.raises(RuntimeError, match="closed"):
        pool.get(Appliance("ddi-a", "simulated"))


async def test_the_pool_closes_real_drivers() -> None:
    async with DriverPool(CONTEXT) as pool:
        drivers = [pool.get(Appliance(f"ddi-{i}", "simulated")) for i in range(3)]
    assert all(isinstance(d, SimulatedDriver) and d.closed for d in drivers)


def test_available_refuses_what_make_driver_refuses_without_building(
    fresh_entry_points: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    scans: list[str] = []
    real = registry.entry_points

    def counting(**kwargs: Any) -> Any:
        scans.append(kwargs["group"])
        return real(**kwargs)

    monkeypatch.setattr(registry, "entry_points", counting)
    factory = Factory()
    pool = DriverPool(CONTEXT, factory)
    for name in ("acme-console", "ftp"):
        unknown = Appliance("ddi-b", name)
        with pytest.raises(ConfigError) as made:
            make_driver(unknown, CONTEXT)
        with pytest.raises(ConfigError) as checked:
            pool.available(unknown)
        assert str(checked.value) == str(made.value) and "is not installed" in str(made.value)
        assert checked.value.params == made.value.params
        assert repr(name) in checked.value.detail and "ddi-b" in checked.value.detail
    for name in ("simulated", "guided"):
        assert pool.available(Appliance("ddi-ok", name)) is None
    assert factory.built == [] and len(scans) == 1  # nothing built, the group scanned once


async def test_drivers_of_one_simulator_share_one_client() -> None:
    pool = DriverPool(CONTEXT)
    drivers = [pool.get(Appliance(f"ddi-{i}", "simulated")) for i in range(5)]
    other = pool.get(Appliance("ddi-x", "simulated", simulator_url="http://127.0.0.1:10"))
    assert all(isinstance(d, SimulatedDriver) for d in [*drivers, other])
    clients = {id(d._client) for d in drivers if isinstance(d, SimulatedDriver)}
    assert len(clients) == 1 and isinstance(other, SimulatedDriver)
    assert id(other._client) not in clients
    await pool.aclose()


async def test_a_shared_client_closes_with_its_last_driver() -> None:
    appliances = [Appliance(f"ddi-{i}", "simulated") for i in range(3)]
    drivers = [make_driver(a, CONTEXT) for a in appliances]
    assert all(isinstance(d, SimulatedDriver) for d in drivers)
    client = drivers[0]._client  # type: ignore[attr-defined]
    for driver in drivers[:-1]:
        await driver.aclose()
        await driver.aclose()  # twice: still one release
        assert not client.is_closed
    with pytest.raises(RuntimeError, match="closed"):
        await drivers[0].is_up()
    await drivers[-1].aclose()
    assert client.is_closed
    again = make_driver(appliances[0], CONTEXT)
    assert again._client is not client and not again._client.is_closed  # type: ignore[attr-defined]
    await again.aclose()


def test_one_ssl_context_per_ca_file(tmp_path: Path, count_ssl_contexts: list[Any]) -> None:
    ca = tmp_path / "ca.pem"
    shutil.copyfile(certifi.where(), ca)
    contexts = {id(shared_ssl_context(str(ca))) for _ in range(10)}
    assert len(contexts) == 1 and count_ssl_contexts == [str(ca)]
    other = tmp_path / "other.pem"
    shutil.copyfile(certifi.where(), other)
    assert shared_ssl_context(str(other)) is not shared_ssl_context(str(ca))
    assert shared_ssl_context(None) is shared_ssl_context(None)


def test_a_changed_ca_file_is_loaded_again(tmp_path: Path, count_ssl_contexts: list[Any]) -> None:
    ca = tmp_path / "ca.pem"
    shutil.copyfile(certifi.where(), ca)
    first = shared_ssl_context(str(ca))
    ca.write_text(Path(certifi.where()).read_text() + "\n")  # a rotated CA file
    assert shared_ssl_context(str(ca)) is not first
    assert len(count_ssl_contexts) == 2


def test_ca_file_errors_are_not_cached(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    appliance = Appliance("ddi-ca", "simulated", tls_ca_file=str(ca))
    with pytest.raises(ConfigError, match="cannot load CA file") as missing:
        SimulatedDriver(appliance, CONTEXT)
    assert "No such file or directory" in missing.value.detail
    ca.write_text("not a certificate\n")
    with pytest.raises(ConfigError, match="cannot load CA file"):
        SimulatedDriver(appliance, CONTEXT)
    shutil.copyfile(certifi.where(), ca)
    assert shared_ssl_context(str(ca)) is shared_ssl_context(str(ca))
