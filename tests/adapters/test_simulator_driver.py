"""SimulatedDriver against the real simulator over real HTTP, for every scenario."""

from __future__ import annotations

import asyncio
import io
import ssl
import time
import zipfile
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bot.capture import summarise_export
from bot.drivers.base import DriverContext
from bot.drivers.guided import GuidedDriver
from bot.drivers.registry import make_driver
from bot.drivers.simulated import SimulatedDriver
from bot.errors import (
    ApplianceProtocolError,
    ApplianceTimeout,
    ApplianceTLSError,
    ApplianceUnreachable,
    ConfigError,
)
from bot.inventory import Appliance
from bot.simulator.scenarios import VERIFIED
from bot.simulator.server import create_app, start_simulator

END = datetime(2025, 1, 10, 12, 0, tzinfo=UTC)
START = END - timedelta(days=1)
DriverFactory = Callable[..., SimulatedDriver]


@pytest.fixture
async def driver_for(simulator_url: str) -> AsyncIterator[DriverFactory]:
    made: list[SimulatedDriver] = []

    def make(name: str, timeout: float = 5.0, url: str | None = None) -> SimulatedDriver:
        appliance = Appliance(name=name, driver="simulated", simulator_url=url)
        driver = SimulatedDriver(
            appliance, DriverContext(simulator_url=simulator_url, timeout=timeout)
        )
        made.append(driver)
        return driver

    yield make
    for driver in made:
        await driver.aclose()


async def reboots(url: str, name: str) -> int:
    async with httpx.AsyncClient(base_url=url) as client:
        listing = (await client.get("/api/v1/appliances")).json()["appliances"]
    return int(next(a["reboots"] for a in listing if a["name"] == name))


async def wait_up(driver: SimulatedDriver, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not await driver.is_up():
        assert time.monotonic() < deadline, "appliance did not come back"
        await asyncio.sleep(0.05)


async def test_healthy_runs_every_step(driver_for: DriverFactory) -> None:
    driver = driver_for("ddi-healthy")
    result = await driver.test_connection()
    assert result.verified and result.message == VERIFIED
    detections = await driver.query_detections(START, END)
    assert detections.count > 0 and detections.period_start == START
    export = await driver.capture(0.2)
    assert export.filename.startswith("capture_eth1_") and export.filename.endswith(".zip")
    summary = await asyncio.to_thread(summarise_export, export.content, export.filename)
    assert summary.files == ("eth1.pcap",) and summary.receiving_traffic and not summary.partial
    bundle = await driver.export_debug_logs()
    assert bundle.filename.startswith("debuglog_ddi-healthy_")
    with zipfile.ZipFile(io.BytesIO(bundle.content)) as archive:
        names = archive.namelist()
    assert "debug/tmsp.log" in names and "config/configuration.json" in names
    assert await driver.is_up()


async def test_tmsp_down_is_verified_only_after_one_reboot(
    driver_for: DriverFactory, simulator_url: str
) -> None:
    driver = driver_for("ddi-tmsp-down")
    before = await driver.test_connection()
    assert not before.verified and before.message != VERIFIED and before.message
    assert (await driver.query_detections(START, END)).count > 0
    await driver.reboot()
    assert not await driver.is_up()
    with pytest.raises(ApplianceProtocolError, match="503"):
        await driver.test_connection()
    await wait_up(driver)
    after = await driver.test_connection()
    assert after.verified and after.message == VERIFIED
    assert await reboots(simulator_url, "ddi-tmsp-down") == 1


async def test_quiet_has_traffic_but_no_detections(driver_for: DriverFactory) -> None:
    driver = driver_for("ddi-quiet")
    assert (await driver.test_connection()).verified
    assert (await driver.query_detections(START, END)).count == 0
    export = await driver.capture(0.1)
    assert summarise_export(export.content, export.filename).packets > 0


async def test_a_capture_left_running_by_a_process_that_died_is_restarted(
    driver_for: DriverFactory, simulator_url: str
) -> None:
    async with httpx.AsyncClient(base_url=simulator_url + "/api/v1/appliances/") as client:
        assert (await client.post("ddi-quiet/capture/start")).status_code == 200  # then killed
    export = await driver_for("ddi-quiet").capture(0.1)
    assert summarise_export(export.content, export.filename).packets > 0


async def test_no_traffic_captures_an_empty_pcap(driver_for: DriverFactory) -> None:
    driver = driver_for("ddi-no-traffic")
    assert (await driver.test_connection()).verified
    assert (await driver.query_detections(START, END)).count == 0
    export = await driver.capture(0.1)
    summary = summarise_export(export.content, export.filename)
    assert summary.files == ("eth1.pcap",) and summary.packets == 0
    assert not summary.receiving_traffic and not summary.partial


async def test_reboot_fails_stays_unverified(driver_for: DriverFactory, simulator_url: str) -> None:
    driver = driver_for("ddi-reboot-fails")
    assert not (await driver.test_connection()).verified
    assert (await driver.query_detections(START, END)).count > 0
    await driver.reboot()
    await wait_up(driver)
    result = await driver.test_connection()
    assert not result.verified and result.message != VERIFIED
    assert await reboots(simulator_url, "ddi-reboot-fails") == 1


async def test_unreachable_times_out(driver_for: DriverFactory) -> None:
    driver = driver_for("ddi-unreachable", timeout=0.3)
    with pytest.raises(ApplianceTimeout) as caught:
        await driver.test_connection()
    assert "ddi-unreachable" in caught.value.detail and "connection test" in caught.value.detail
    assert not await driver.is_up()


async def test_unknown_appliance_is_a_protocol_error(driver_for: DriverFactory) -> None:
    with pytest.raises(ApplianceProtocolError, match="404") as caught:
        await driver_for("ddi-nowhere").test_connection()
    assert "ddi-nowhere" in caught.value.detail


async def test_closed_port_is_unreachable(driver_for: DriverFactory, closed_port: int) -> None:
    driver = driver_for("ddi-healthy", url=f"http://user:s3cret@127.0.0.1:{closed_port}")
    with pytest.raises(ApplianceUnreachable) as caught:
        await driver.test_connection()
    assert "ddi-healthy" in caught.value.detail and str(closed_port) in caught.value.detail
    assert "s3cret" not in str(caught.value) and "s3cret" not in repr(caught.value.params)
    assert not await driver.is_up()


async def test_tls_failure_is_reported_as_tls(
    driver_for: DriverFactory, simulator_url: str
) -> None:
    driver = driver_for("ddi-healthy", url=simulator_url.replace("http://", "https://"))
    with pytest.raises(ApplianceTLSError, match="ddi-healthy"):
        await driver.test_connection()
    with pytest.raises(ApplianceTLSError):
        await driver.is_up()


async def test_simulator_protocol_details(simulator_url: str) -> None:
    async with httpx.AsyncClient(base_url=simulator_url + "/api/v1/appliances/") as client:
        assert (await client.get(simulator_url + "/healthz")).json() == {"ok": True}
        assert (await client.get("ddi-healthy/nothing-here")).json()["error"] == "not_found"
        assert (await client.get("ddi-healthy/capture/export")).status_code == 409
        assert (await client.post("ddi-healthy/capture/stop")).status_code == 409
        assert (await client.post("ddi-healthy/capture/start")).status_code == 200
        assert (await client.post("ddi-healthy/capture/start")).status_code == 409
        bad = await client.get("ddi-healthy/detections", params={"start": "yesterday"})
        assert bad.status_code == 400 and bad.json()["error"] == "bad_period"
        status = (await client.get("ddi-quiet/status")).json()
        assert status == {"state": "up", "reboots": 0, "scenario": "quiet"}
        assert (await client.post("ddi-quiet/reboot")).status_code == 202
        assert (await client.get("ddi-quiet/status")).status_code == 503
        switched = await client.post("ddi-healthy/_control", json={"scenario": "tmsp-down"})
        assert switched.json()["scenario"] == "tmsp-down"
        verdict = (await client.post("ddi-healthy/connection-test")).json()
        assert verdict["verified"] is False
        refused = await client.post("ddi-healthy/_control", json={"scenario": "nope"})
        assert refused.status_code == 400
        missing = await client.get("nobody/status")
        assert missing.status_code == 404 and missing.json()["error"] == "unknown_appliance"


async def test_garbage_answers_are_protocol_errors() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("connection-test"):
            return httpx.Response(200, text="<html>login</html>")
        return httpx.Response(200, json={"count": "many"})

    appliance = Appliance(name="ddi-odd", driver="simulated", simulator_url="http://sim.test")
    driver = SimulatedDriver(appliance, DriverContext(None), httpx.MockTransport(handler))
    try:
        with pytest.raises(ApplianceProtocolError, match="ddi-odd: connection test"):
            await driver.test_connection()
        with pytest.raises(ApplianceProtocolError, match="count"):
            await driver.query_detections(START, END)
    finally:
        await driver.aclose()


def test_driver_needs_a_usable_simulator_url() -> None:
    appliance = Appliance(name="ddi-lost", driver="simulated")
    with pytest.raises(ConfigError, match="ddi-lost"):
        SimulatedDriver(appliance, DriverContext(simulator_url=None))
    with pytest.raises(ConfigError, match="not an http") as caught:
        SimulatedDriver(appliance, DriverContext(simulator_url="ftp://u:s3cret@sim.test"))
    assert "s3cret" not in str(caught.value)
    odd_ca = Appliance(name="ddi-ca", driver="simulated", tls_ca_file="/nonexistent/ca.pem")
    with pytest.raises(ConfigError, match="CA file"):
        SimulatedDriver(odd_ca, DriverContext(simulator_url="https://sim.test"))


async def test_registry_builds_simulated_and_refuses_unknown_drivers() -> None:
    context = DriverContext(simulator_url="http://127.0.0.1:1")
    driver = make_driver(Appliance(name="ddi-a", driver="simulated"), context)
    assert isinstance(driver, SimulatedDriver)
    await driver.aclose()
    guided = make_driver(Appliance(name="ddi-g", driver="guided"), context)
    assert isinstance(guided, GuidedDriver)
    for name in ("acme-console", "ftp"):
        with pytest.raises(ConfigError) as caught:
            make_driver(Appliance(name="ddi-b", driver=name), context)
        assert "ddi-b" in caught.value.detail and repr(name) in caught.value.detail


async def test_https_with_the_appliance_ca_file(self_signed: tuple[Path, Path]) -> None:
    cert, key = self_signed
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    handle = await start_simulator(create_app([("ddi-tls", "healthy")]), ssl_context=server_tls)
    context = DriverContext(simulator_url=handle.url)
    trusted = SimulatedDriver(Appliance("ddi-tls", "simulated", tls_ca_file=str(cert)), context)
    untrusted = SimulatedDriver(Appliance("ddi-tls", "simulated"), context)
    try:
        assert handle.url.startswith("https://127.0.0.1:")
        assert (await trusted.test_connection()).verified
        with pytest.raises(ApplianceTLSError, match="CERTIFICATE_VERIFY_FAILED"):
            await untrusted.test_connection()
    finally:
        await trusted.aclose()
        await untrusted.aclose()
        await handle.stop()
