"""GET /healthz and GET /metrics of the running app, scraped during a case."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import Harness

from storage.db import Database, make_engine


def _value(text: str, name: str, **labels: str) -> float:
    """A sample's value in Prometheus' text format (0 when it is not there yet)."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        found = re.fullmatch(r"([a-z_]+)(?:\{(.*)\})? (\S+)", line)
        if found is None or found.group(1) != name:
            continue
        have = dict(re.findall(r'(\w+)="([^"]*)"', found.group(2) or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            return float(found.group(3))
    return 0.0


async def test_healthz_says_ok_when_the_database_and_slack_answer(harness: Harness) -> None:
    answer = await harness.http.get(f"{harness.url}/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "database": "ok", "slack": "ok"}
    await harness.http.get(f"{harness.url}/healthz")
    assert len(harness.slack.by("auth.test")) == 1  # Slack is not asked at every probe


async def test_healthz_answers_503_when_slack_refuses_the_token(harness: Harness) -> None:
    harness.slack.fail["auth.test"] = ["token_revoked"]
    answer = await harness.http.get(f"{harness.url}/healthz")
    assert answer.status_code == 503
    assert answer.json() == {
        "status": "unhealthy",
        "database": "ok",
        "slack": "refused (token_revoked)",
    }


async def test_healthz_answers_503_when_the_database_is_gone(
    harness: Harness, tmp_path: Path
) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()  # a directory where the database file should be: it cannot be opened
    broken = Database(make_engine(f"sqlite+aiosqlite:///{gone}"))
    harness.runtime.engine.ctx.db = broken  # the database the engine uses is gone
    try:
        answer = await harness.http.get(f"{harness.url}/healthz")
    finally:
        await broken.dispose()
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "unhealthy" and body["database"].startswith("unavailable (")
    assert body["slack"] == "ok"
    assert str(gone) not in answer.text


async def test_metrics_count_what_a_case_did(harness: Harness) -> None:
    before = (await harness.http.get(f"{harness.url}/metrics")).text
    await harness.command("ddi-tokyo-1")
    await harness.prompt("Collect")
    scraped = await harness.http.get(f"{harness.url}/metrics")
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    after = scraped.text
    assert _value(after, "ddi_bot_open_cases") == 1.0

    def grew(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert grew("ddi_bot_slack_calls_total", method="chat.postMessage", result="ok") >= 3
    assert grew("ddi_bot_step_seconds_count", step="1") == 1
    assert grew("ddi_bot_outbox_deliveries_total", kind="root", result="sent") == 1
    assert "ddi_bot_syslog_messages" in after and "ddi_bot_cases_closed_total" in after
