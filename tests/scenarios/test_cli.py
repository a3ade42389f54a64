"""The ``ddi-bot`` command as people run it, in a subprocess."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import urllib.parse
from pathlib import Path

import httpx
from aiohttp import web
from fakeslack import FakeSlack, command_body, sign

DDI_BOT = [sys.executable, "-m", "bot"]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DDI_BOT_"))}
    env["DDI_BOT_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    env.update(extra)
    return env


async def _run(
    args: list[str], env: dict[str, str], stdin: bytes | None = None, cwd: Path | None = None
) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *DDI_BOT, *args, env=env, cwd=cwd,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(stdin or b""), timeout=120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_demo_runs_a_whole_case_unattended(tmp_path: Path) -> None:
    code, out, _ = await _run(["demo", "--yes"], _env(tmp_path))
    assert code == 0
    assert "Step 1 — Connection test" in out and "Approve reboot" in out
    assert out.rstrip().endswith("Resolved: the connection test passes after the reboot.")


async def test_demo_in_japanese(tmp_path: Path) -> None:
    code, out, _ = await _run(
        ["demo", "--yes", "--lang", "ja", "--scenario", "quiet"], _env(tmp_path)
    )
    assert code == 0
    assert "手順 2 — 検出ログのクエリ" in out and "解決済み" in out


async def test_demo_takes_answers_from_the_keyboard(tmp_path: Path) -> None:
    # no-traffic: "Capture packets" (2), then "Escalate" (2)
    code, out, _ = await _run(["demo", "--scenario", "no-traffic"], _env(tmp_path), b"x\n2\n2\n")
    assert code == 0
    assert "Vendor report" in out and "Escalated" in out


async def test_demo_without_answers_stops_clearly(tmp_path: Path) -> None:
    code, _, err = await _run(["demo", "--scenario", "quiet"], _env(tmp_path), b"")
    assert code == 2 and "use --yes" in err


async def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    code, out, _ = await _run(["db", "upgrade"], _env(tmp_path))
    assert code == 0 and "up to date" in out
    assert (tmp_path / "cli.db").exists()


async def test_serve_refuses_to_start_without_credentials(tmp_path: Path) -> None:
    code, _, err = await _run(["serve"], _env(tmp_path))
    assert code == 2 and "SLACK_BOT_TOKEN is not set" in err
    code, _, err = await _run(["serve"], _env(tmp_path, SLACK_BOT_TOKEN="xoxb-1"))
    assert code == 2 and "SLACK_SIGNING_SECRET" in err and "xoxb-1" not in err


async def _get_when_up(http: httpx.AsyncClient, url: str) -> httpx.Response:
    """GET ``url`` once the process started in the background listens (up to 20 s)."""
    for _ in range(200):
        try:
            return await http.get(url)
        except httpx.TransportError:
            await asyncio.sleep(0.1)
    raise AssertionError(f"nothing answered at {url}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _fake_slack() -> tuple[FakeSlack, web.AppRunner]:
    slack = FakeSlack()
    runner = web.AppRunner(slack.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, slack_port = runner.addresses[0][:2]
    slack.url = f"http://{host}:{slack_port}"
    return slack, runner


async def _stop(proc: asyncio.subprocess.Process) -> str:
    proc.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 0, err.decode()
    return err.decode()


async def test_serve_in_http_mode_answers_signed_requests(tmp_path: Path) -> None:
    slack, runner = await _fake_slack()
    port = _free_port()
    env = _env(
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="secret",
        SLACK_API_URL=f"{slack.url}/api/",
    )
    proc = await asyncio.create_subprocess_exec(
        *DDI_BOT, "serve", "--host", "127.0.0.1", "--port", str(port), env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            health = await _get_when_up(http, f"http://127.0.0.1:{port}/healthz")
            assert health.json() == {"status": "ok"}
            body = command_body("ddi-healthy", "U1", "C1", f"{slack.url}/respond/1")
            ok = await http.post(
                f"http://127.0.0.1:{port}/slack/events", content=body, headers=sign("secret", body)
            )
            bad = await http.post(
                f"http://127.0.0.1:{port}/slack/events", content=body, headers=sign("nope", body)
            )
        assert ok.status_code == 200 and bad.status_code == 401
        for _ in range(200):
            if slack.prompts():
                break
            await asyncio.sleep(0.05)
        assert "Collect" in str(slack.prompts()[0].args["blocks"])
    finally:
        err = await _stop(proc)
        await runner.cleanup()
    assert "xoxb-test" not in err


async def test_serve_in_socket_mode_takes_commands_over_the_websocket(tmp_path: Path) -> None:
    slack, runner = await _fake_slack()
    fields = dict(urllib.parse.parse_qsl(command_body("ddi-healthy", "U1", "C1", "")))
    slack.envelopes.append(
        {
            "envelope_id": "env-1",
            "type": "slash_commands",
            "accepts_response_payload": True,
            "payload": fields,
        }
    )
    env = _env(
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_APP_TOKEN="xapp-test",
        SLACK_API_URL=f"{slack.url}/api/",
    )
    proc = await asyncio.create_subprocess_exec(
        *DDI_BOT, "serve", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        for _ in range(300):
            if slack.prompts():
                break
            await asyncio.sleep(0.05)
        assert "Collect" in str(slack.prompts()[0].args["blocks"])
        ack = next(a for a in slack.acks if a.get("envelope_id") == "env-1")
        assert "Opening a check of `ddi-healthy`" in json.dumps(ack, ensure_ascii=False)
        assert slack.by("apps.connections.open")
    finally:
        err = await _stop(proc)
        await runner.cleanup()
    assert "xapp-test" not in err and "xoxb-test" not in err


async def test_the_simulator_runs_standalone_from_an_inventory(tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(
        "appliances:\n  - name: ddi-lab-1\n    driver: simulated\n    scenario: quiet\n"
        "  - name: ddi-real\n    driver: guided\n",
        encoding="utf-8",
    )
    port = _free_port()
    env = _env(tmp_path, DDI_BOT_INVENTORY=str(inventory))
    proc = await asyncio.create_subprocess_exec(
        *DDI_BOT, "simulator", "--port", str(port), env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            listing = await _get_when_up(http, f"http://127.0.0.1:{port}/api/v1/appliances")
        names = [a["name"] for a in listing.json()["appliances"]]
        assert names == ["ddi-lab-1"]  # only simulated appliances are served
    finally:
        await _stop(proc)
