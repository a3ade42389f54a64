"""The ``ddi-bot`` command as people run it, in a subprocess."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import urllib.parse
from importlib import metadata
from pathlib import Path

import httpx
import pytest
from aiohttp import web
from fakeslack import FakeSlack, command_body, sign

DDI_BOT = [sys.executable, "-m", "bot"]
POSTGRES = os.environ.get("DDI_BOT_TEST_POSTGRES_URL", "")


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
    assert "(* = recommended: press Enter to take it)" in out
    assert out.count("Type a number from 1 to ") == 1  # the "x"


async def test_demo_takes_enter_for_the_recommended_answer(tmp_path: Path) -> None:
    code, out, _ = await _run(["demo", "--lang", "ja"], _env(tmp_path), b"\n" * 10)
    assert code == 0
    assert "解決済み" in out and "Enter でそれを選びます" in out


async def test_demo_ends_at_once_on_ctrl_c_while_it_waits_for_an_answer(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        *DDI_BOT, "demo", env=_env(tmp_path),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    try:
        await _line_with(proc.stdout, "(* = recommended")  # it waits at the first question
        proc.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(proc.wait(), timeout=10)  # stdin still open
        err = (await proc.stderr.read()).decode()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert code == 130
    assert "Traceback" not in err


async def test_demo_without_answers_stops_clearly(tmp_path: Path) -> None:
    code, _, err = await _run(["demo", "--scenario", "quiet"], _env(tmp_path), b"")
    assert code == 2 and "use --yes" in err


async def test_version_names_the_installed_release(tmp_path: Path) -> None:
    code, out, _ = await _run(["--version"], _env(tmp_path))
    assert code == 0
    assert out.strip() == f"ddi-bot {metadata.version('ddi-bot')}"


async def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    code, out, _ = await _run(["db", "upgrade"], _env(tmp_path))
    assert code == 0 and "up to date" in out
    assert (tmp_path / "cli.db").exists()


async def test_serve_refuses_to_start_without_credentials(tmp_path: Path) -> None:
    code, _, err = await _run(["serve"], _env(tmp_path))
    assert code == 2 and "SLACK_BOT_TOKEN is not set" in err
    code, _, err = await _run(["serve"], _env(tmp_path, SLACK_BOT_TOKEN="xoxb-1"))
    assert code == 2 and "SLACK_SIGNING_SECRET" in err and "xoxb-1" not in err


def _one_line_refusal(code: int, err: str) -> str:
    """``serve`` stopped before taking work, saying why in one line and no traceback."""
    assert code == 2, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("ddi-bot: "), err
    return last


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("sqlite+aiosqlite:///{tmp}/no/such/dir/x.db", "{tmp}/no/such/dir does not exist"),
        ("sqlite+aiosqlite:///{tmp}/a-file/x.db", "{tmp}/a-file is not a directory"),
        ("sqlite+aiosqlite:///{tmp}", "does its directory exist"),  # a directory: no file
        ("postgresql://bot:s3cret@127.0.0.1:{port}/ddi", "Is the server running"),
        ("postgresql+asyncpg://bot:s3cret@127.0.0.1:{port}/ddi", "Connection refused"),
        ("not a url", "is not a database URL; for example sqlite+aiosqlite"),
        ("mysql+nosuchdriver://db/x", "no database driver for 'mysql+nosuchdriver'"),
    ],
)
async def test_serve_says_in_one_line_why_the_database_cannot_be_opened(
    tmp_path: Path, url: str, says: str
) -> None:
    slack, runner = await _fake_slack()
    (tmp_path / "a-file").write_text("a file where a directory should be")
    database_url = url.format(tmp=tmp_path, port=_free_port())
    env = _env(
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="secret",
        SLACK_API_URL=f"{slack.url}/api/",
        DDI_BOT_DATABASE_URL=database_url,
    )
    try:
        code, _, err = await _run(["serve", "--port", str(_free_port())], env, cwd=tmp_path)
    finally:
        await runner.cleanup()
    line = _one_line_refusal(code, err)
    assert says.format(tmp=tmp_path) in line
    assert "s3cret" not in err


@pytest.mark.skipif(not POSTGRES, reason="DDI_BOT_TEST_POSTGRES_URL is not set")
async def test_serve_names_a_postgres_database_that_does_not_exist(tmp_path: Path) -> None:
    url = POSTGRES.rsplit("/", 1)[0] + "/ddi_bot_no_such_database"
    code, _, err = await _run(
        ["serve"], _env(tmp_path, SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s",
                        SLACK_API_URL="http://127.0.0.1:1/api/", DDI_BOT_DATABASE_URL=url),
    )  # fmt: skip
    line = _one_line_refusal(code, err)
    assert '"ddi_bot_no_such_database" does not exist (create it first' in line


async def test_serve_refuses_a_bot_token_that_slack_refuses(tmp_path: Path) -> None:
    slack, runner = await _fake_slack()
    slack.fail["auth.test"] = ["invalid_auth"]
    env = _env(
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-revoked",
        SLACK_SIGNING_SECRET="secret",
        SLACK_API_URL=f"{slack.url}/api/",
    )
    try:
        code, _, err = await _run(["serve", "--port", str(_free_port())], env, cwd=tmp_path)
    finally:
        await runner.cleanup()
    line = _one_line_refusal(code, err)
    assert "Slack refused SLACK_BOT_TOKEN (invalid_auth)" in line
    assert slack.failures == [("auth.test", "invalid_auth")]
    assert not (tmp_path / "cli.db").exists()  # refused before anything started
    assert "xoxb-revoked" not in err


@pytest.mark.parametrize(
    ("tokens", "says"),
    [
        ({"SLACK_BOT_TOKEN": "xapp-1-A1-2-x", "SLACK_SIGNING_SECRET": "s"}, "app-level token"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xoxb-2"}, "SLACK_APP_TOKEN is not"),
    ],
)
async def test_serve_refuses_swapped_tokens(
    tmp_path: Path, tokens: dict[str, str], says: str
) -> None:
    code, _, err = await _run(["serve"], _env(tmp_path, **tokens))
    assert says in _one_line_refusal(code, err)


async def test_serve_refuses_a_data_dir_it_cannot_write_to(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    env = _env(
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_SIGNING_SECRET="s",
        SLACK_API_URL="http://127.0.0.1:1/api/",  # unreachable: a warning, not a refusal
        DDI_BOT_DATA_DIR=str(tmp_path / "a-file" / "data"),
    )
    code, _, err = await _run(["serve"], env)
    line = _one_line_refusal(code, err)
    assert "DDI_BOT_DATA_DIR" in line and "Not a directory" in line
    assert "could not reach Slack to check the bot token" in err


async def test_serve_refuses_syslog_tls_files_it_cannot_use(tmp_path: Path) -> None:
    (tmp_path / "cert.pem").write_text("-----BEGIN CERTIFICATE-----\nnope\n", encoding="utf-8")
    (tmp_path / "key.pem").write_text("not a key", encoding="utf-8")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = _env(
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_SIGNING_SECRET="s",
        SLACK_API_URL="http://127.0.0.1:1/api/",  # unreachable: a warning, not a refusal
        DDI_BOT_SYSLOG_TLS=str(port),
        DDI_BOT_SYSLOG_HOST="127.0.0.1",
        DDI_BOT_SYSLOG_CERT=str(tmp_path / "cert.pem"),
        DDI_BOT_SYSLOG_KEY=str(tmp_path / "key.pem"),
    )
    code, _, err = await _run(["serve"], env)
    line = _one_line_refusal(code, err)
    assert "are not a PEM certificate and its private key" in line and "cert.pem" in line


async def test_serve_names_the_inventory_line_of_a_driver_that_is_not_installed(
    tmp_path: Path,
) -> None:
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(
        "appliances:\n"
        "  - name: ddi-lab-1\n"
        "    driver: simulated\n"
        "  - name: ddi-osaka-1\n"
        "    driver: no-such-driver\n"
    )
    env = _env(
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_SIGNING_SECRET="s",
        SLACK_API_URL="http://127.0.0.1:1/api/",
        DDI_BOT_INVENTORY=str(inventory),
    )
    code, _, err = await _run(["serve"], env)
    line = _one_line_refusal(code, err)
    assert f"{inventory}, line 5: appliance #2" in line
    assert "driver 'no-such-driver' is not installed" in line


async def _line_with(stream: asyncio.StreamReader, text: str, limit: float = 60) -> str:
    """Read ``stream`` until a line holds ``text``; every line read."""
    seen: list[str] = []
    async with asyncio.timeout(limit):
        while not seen or text not in seen[-1]:
            line = await stream.readline()
            assert line, "the process ended: " + "".join(seen)
            seen.append(line.decode())
    return "".join(seen)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_serve_stops_on_a_signal_in_socket_mode_while_slack_is_unreachable(
    tmp_path: Path, signum: signal.Signals
) -> None:
    env = _env(
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_APP_TOKEN="xapp-1-A1-1-secret",
        SLACK_API_URL=f"http://127.0.0.1:{_free_port()}/api/",  # nothing listens there
    )
    proc = await asyncio.create_subprocess_exec(
        *DDI_BOT, "serve", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stderr is not None
    try:
        # (started, and retrying the Socket Mode connection)
        before = await _line_with(proc.stderr, "Failed to connect")
        proc.send_signal(signum)
        # a container runtime kills after 10 s: the stop must be within that
        rest = await asyncio.wait_for(proc.stderr.read(), timeout=10)
        code = await asyncio.wait_for(proc.wait(), timeout=10)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    err = before + rest.decode()
    assert code == 0, err
    assert "Traceback" not in err
    assert "WARNING bot.serve.socket_mode: Failed to connect" in err  # one line, a warning
    assert "xapp-1-A1-1-secret" not in err


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


async def _serve_http(
    tmp_path: Path, slack: FakeSlack, **extra: str
) -> tuple[asyncio.subprocess.Process, int]:
    """``ddi-bot serve`` in HTTP mode against ``slack``, in the background; its port."""
    port = _free_port()
    env = _env(
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="secret",
        SLACK_API_URL=f"{slack.url}/api/",
        **extra,
    )
    proc = await asyncio.create_subprocess_exec(
        *DDI_BOT, "serve", "--host", "127.0.0.1", "--port", str(port), env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    return proc, port


async def test_serve_in_http_mode_answers_signed_requests(tmp_path: Path) -> None:
    slack, runner = await _fake_slack()
    proc, port = await _serve_http(tmp_path, slack)
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            health = await _get_when_up(http, f"http://127.0.0.1:{port}/healthz")
            assert health.json() == {"status": "ok", "database": "ok", "slack": "ok"}
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


async def test_json_logs_are_one_object_a_line_with_the_case_on_lines_about_it(
    tmp_path: Path,
) -> None:
    slack, runner = await _fake_slack()
    slack.fail["chat.postMessage"] = ["not_in_channel"]  # the root message: logged, for case 1
    proc, port = await _serve_http(tmp_path, slack, DDI_BOT_LOG_FORMAT="json")
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            await _get_when_up(http, f"http://127.0.0.1:{port}/healthz")
            body = command_body("ddi-healthy", "U1", "C1", f"{slack.url}/respond/1")
            answer = await http.post(
                f"http://127.0.0.1:{port}/slack/events", content=body, headers=sign("secret", body)
            )
        assert answer.status_code == 200
        for _ in range(200):  # the person who asked is told the case could not start
            if slack.responses:
                break
            await asyncio.sleep(0.05)
        assert slack.responses
    finally:
        err = await _stop(proc)
        await runner.cleanup()
    lines = [json.loads(line) for line in err.splitlines()]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    refused = [line for line in lines if "refused by Slack: not_in_channel" in line["message"]]
    assert refused and refused[0]["level"] == "ERROR"
    assert (refused[0]["case_id"], refused[0]["appliance"]) == (1, "ddi-healthy")
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
    health_port = _free_port()
    env = _env(
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_APP_TOKEN="xapp-test",
        SLACK_API_URL=f"{slack.url}/api/",
        DDI_BOT_HEALTH_PORT=str(health_port),
    )
    proc = await asyncio.create_subprocess_exec(
        *DDI_BOT, "serve", "--host", "127.0.0.1", env=env, cwd=tmp_path,
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
        async with httpx.AsyncClient(timeout=10) as http:  # Socket Mode's health port
            health = await _get_when_up(http, f"http://127.0.0.1:{health_port}/healthz")
            assert (health.status_code, health.json()["status"]) == (200, "ok")
            scraped = await http.get(f"http://127.0.0.1:{health_port}/metrics")
        assert "ddi_bot_open_cases 1.0" in scraped.text
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
