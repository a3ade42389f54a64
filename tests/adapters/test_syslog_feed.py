"""The syslog feed inside the running bot: detections sent over TCP and UDP are counted and
answer step 2 of a real case, and a sensor's history shows at the quiet/busy question."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from test_engine_durability import RecordingNotifier

from bot.engine.feed import usual_per_day
from bot.inventory import Appliance, Inventory
from bot.runbook import Timing
from bot.runtime import Runtime, start_runtime
from bot.settings import Settings
from storage import syslog_counts, syslog_receivers
from storage.models import SyslogReceiverRow

FLEET = Inventory(
    (
        Appliance(
            name="ddi-sendai-7",
            driver="simulated",
            scenario="quiet",
            syslog_ids=("DDI-SENDAI-7", "6B593E17AFB7-40FBBB28-A4CE-0462-A536"),
        ),
        Appliance(name="ddi-quiet-8", driver="simulated", scenario="quiet", syslog_ids=("q8",)),
    )
)
HEAD = "CEF:0|Trend Micro|Deep Discovery Inspector|6.7.1164|20|Malware URL requested|6|"


def _cef(host: str) -> bytes:
    return f"<134>Nov 25 17:04:10 sensor {HEAD}dvchost={host} cn3Label=ThreatType cn3=2".encode()


def _leef(guid: str) -> bytes:
    stamp = (datetime.now(UTC) - timedelta(minutes=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f"<134>1 {stamp} sensor - - - - LEEF:1.0|Trend Micro|"
        f"Deep Discovery Inspector|6.7|SECURITY_RISK_DETECTION|sev=6\tdeviceGUID={guid}"
    ).encode()


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[tuple[Runtime, RecordingNotifier]]:
    settings = replace(
        Settings(),
        posts_per_second=100.0,  # one channel for every case: no pacing to wait for
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        syslog_udp=0,
        syslog_tcp=0,
        syslog_host="127.0.0.1",
        capture_seconds=0.05,
    )
    notifier = RecordingNotifier()
    runtime = await start_runtime(
        settings, notifier, inventory=FLEET, timing=Timing(recheck_delay=3600.0),
        artifacts=tmp_path / "artifacts", timer_poll=0.05, syslog_flush=0.1,
    )  # fmt: skip
    yield runtime, notifier
    await runtime.stop(drain=False)


async def _stored(runtime: Runtime, appliance: str, expected: int) -> None:
    now = datetime.now(UTC)
    for _ in range(200):
        async with runtime.engine.sessions() as session:
            total = await syslog_counts.total(
                session, appliance, now - timedelta(hours=1), now + timedelta(hours=1)
            )
        if total >= expected:
            assert total == expected
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{appliance}: {total} detections stored, expected {expected}")


async def _message(notifier: RecordingNotifier, word: str) -> str:
    for _ in range(200):
        found = [m for m in notifier.messages if word in m]
        if found:
            return found[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no message with {word!r}: {notifier.messages}")


async def test_detections_received_by_syslog_answer_step_2(
    running: tuple[Runtime, RecordingNotifier],
) -> None:
    runtime, notifier = running
    assert runtime.syslog is not None
    tcp_port, udp_port = runtime.syslog.tcp_port, runtime.syslog.udp_port
    assert tcp_port and udp_port
    _reader, writer = await asyncio.open_connection("127.0.0.1", tcp_port)
    writer.write(b"".join(_cef("ddi-sendai-7") + b"\n" for _ in range(5)))
    writer.write(b"garbage that is no syslog at all\n")
    message = _leef("6b593e17afb7-40fbbb28-a4ce-0462-a536")
    writer.write(f"{len(message)} ".encode() + message)  # octet-counted framing
    await writer.drain()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.sendto(_cef("DDI-SENDAI-7"), ("127.0.0.1", udp_port))
    await _stored(runtime, "ddi-sendai-7", 7)
    writer.close()
    await writer.wait_closed()
    stats = await runtime.syslog.stats()
    assert stats is not None and stats.counted == 7 and stats.bad + stats.ignored == 1

    # the quiet simulated sensor's console would say 0; the feed says 7, and says so
    await runtime.engine.open_case("ddi-sendai-7", "U1", "C1")
    text = await _message(notifier, "from the syslog feed")
    assert "7 detections" in text


async def _busy_history(runtime: Runtime) -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    async with runtime.engine.sessions.begin() as session:  # three busy days, then silence
        await syslog_counts.add(
            session, [("ddi-quiet-8", now - timedelta(days=d, hours=2), 30) for d in (1, 2, 3)]
        )


async def _question(notifier: RecordingNotifier) -> str:
    for _ in range(200):
        if notifier.prompts:
            break
        await asyncio.sleep(0.05)
    (question,) = notifier.prompts
    assert question.point.value == "traffic"
    return question.text


async def test_silence_the_receiver_did_not_hear_is_not_an_answer(
    running: tuple[Runtime, RecordingNotifier],
) -> None:
    """Just started: a quiet feed proves nothing, the sensor's own query answers; the question
    still shows how busy the sensor usually is."""
    runtime, notifier = running
    await _busy_history(runtime)
    await runtime.engine.open_case("ddi-quiet-8", "U1", "C1")
    # 90 detections over the two days from the first to the last
    assert "normally has about 45.0 detections per day" in await _question(notifier)
    assert not [m for m in notifier.messages if "from the syslog feed" in m]


async def test_a_quiet_day_heard_by_the_receiver_answers_step_2(
    running: tuple[Runtime, RecordingNotifier],
) -> None:
    runtime, notifier = running
    two_days_ago = datetime.now(UTC) - timedelta(days=2)
    async with runtime.engine.sessions.begin() as session:  # another replica's receiver
        await syslog_receivers.started(session, "another-replica", two_days_ago)
        await syslog_receivers.seen(session, "another-replica", datetime.now(UTC))
    await _busy_history(runtime)
    await runtime.engine.open_case("ddi-quiet-8", "U1", "C1")
    text = await _message(notifier, "from the syslog feed")
    assert "no detections" in text and "Normally about" in text
    assert "normally has about" in await _question(notifier)


async def test_a_sensor_silent_for_days_is_judged_by_how_it_was_before(
    running: tuple[Runtime, RecordingNotifier],
) -> None:
    runtime, _ = running
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    sensor = FLEET.get("ddi-quiet-8")
    async with runtime.engine.sessions.begin() as session:  # 7 days at 120 a day, then silence
        await syslog_counts.add(
            session,
            [("ddi-quiet-8", now - timedelta(days=10, hours=h), 5) for h in range(7 * 24)],
        )
    usual = await usual_per_day(runtime.engine.sessions, sensor, now)
    assert usual is not None and usual[1] == 7
    assert usual[0] == pytest.approx(120, rel=0.02)  # not diluted by the 10 silent days
    # silent for longer than FORWARDS_WITHIN: it does not forward any more, no figure
    assert await usual_per_day(runtime.engine.sessions, sensor, now + timedelta(days=40)) is None


async def test_the_receiver_tells_the_database_it_listens(
    running: tuple[Runtime, RecordingNotifier],
) -> None:
    """What every replica's step 2 reads: this receiver, listening since it started."""
    runtime, _ = running
    now = datetime.now(UTC)
    async with runtime.engine.sessions() as session:
        (began,) = (await session.execute(select(SyslogReceiverRow.started_at))).scalars()
        assert now - timedelta(minutes=1) < began <= now
        assert await syslog_receivers.listened_through(session, began, now)
        earlier = began - timedelta(seconds=1)
        assert not await syslog_receivers.listened_through(session, earlier, now)
