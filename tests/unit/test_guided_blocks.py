"""Guided steps in Block Kit: instructions with buttons, modals, and parsing what comes back."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.engine.uploads import refusal_text
from bot.errors import UploadRefused
from bot.guidance import GuideAction, console_host, instructions
from bot.presenter import CaseView
from bot.runbook import CaseState, Phase, Step
from handlers.blocks import message_payload
from handlers.guided import parse_guide
from handlers.ids import case_ref
from handlers.modals import connection_modal, count_modal, count_value
from handlers.style import SLACK

PERIOD = (datetime(2026, 11, 24, 0, 0, tzinfo=UTC), datetime(2026, 11, 25, 0, 0, tzinfo=UTC))


def _view(lang: str = "en", name: str = "ddi-<osaka>") -> CaseView:
    return CaseView(3, name, "U1", lang, CaseState(Phase.CONNECTION_TEST), 5)


def _guide(which: Step, lang: str = "en", **kw: object) -> dict[str, object]:
    options: dict[str, object] = {
        "console": "[2001:db8::5]:8443",
        "capture_interface": "eth1",
        "period": PERIOD,
        "upload_limit_mb": 512.0,
        **kw,
    }
    message = instructions(_view(lang), which, SLACK, **options)  # type: ignore[arg-type]
    return message_payload(message)


def test_step_1_has_both_answers_as_buttons_carrying_the_case_version() -> None:
    payload = _guide(Step.CONNECTION_TEST)
    actions = payload["blocks"][-1]  # type: ignore[index]
    ids = [e["action_id"] for e in actions["elements"]]
    assert ids == ["ddi_guide:verified", "ddi_guide:other"]
    assert {e["value"] for e in actions["elements"]} == {"3:5"}
    assert "ddi-&lt;osaka&gt;" in str(payload["text"])  # the name came from outside


def test_japanese_instructions_use_the_console_labels() -> None:
    text = str(_guide(Step.REBOOT, "ja")["text"])
    assert "[管理] > [グローバル設定] > [システム設定] > [システムのメンテナンス]" in text
    assert "*[再起動]*" in text


def test_step_2_gives_the_period_in_the_consoles_time_zone() -> None:
    text = str(_guide(Step.DETECTION_QUERY, tz=ZoneInfo("Asia/Tokyo"))["text"])
    assert "2026-11-24 09:00 to 2026-11-25 09:00 (Asia/Tokyo)" in text


def test_step_4_points_at_the_consoles_troubleshooting_page() -> None:
    assert "https://[2001:db8::5]/html/troubleshooting.htm" in str(_guide(Step.DEBUG_LOGS)["text"])
    assert console_host("192.0.2.10:443") == "192.0.2.10"
    assert console_host("ddi.example.net") == "ddi.example.net"
    assert console_host(None) is None


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ({"action_id": "ddi_guide:verified", "value": "3:5"}, (GuideAction.VERIFIED, 3, 5)),
        ({"action_id": "ddi_guide:rebooted", "value": "7:1"}, (GuideAction.REBOOTED, 7, 1)),
        ({"action_id": "ddi_guide:reboot_now", "value": "3:5"}, None),
        ({"action_id": "ddi_guide:verified", "value": "3"}, None),
        ({"action_id": "ddi_guide:verified", "value": "3:99999999999"}, None),
        ({"action_id": "ddi_decide:escalate", "value": "3:5"}, None),
    ],
)
def test_guide_buttons_are_parsed_strictly(
    action: dict[str, str], expected: tuple[GuideAction, int, int] | None
) -> None:
    assert parse_guide(action) == expected


def test_case_refs_must_fit_the_database() -> None:
    assert case_ref("1:2") == (1, 2)
    assert case_ref("0:2") is None and case_ref("-1:2") is None and case_ref("a:b") is None


@pytest.mark.parametrize(
    ("typed", "count"),
    [("0", 0), ("12", 12), ("1,234", 1234), (" 7 ", 7), ("-1", None), ("lots", None),
     ("１２", None), ("99999999999", None), ("", None)],
)  # fmt: skip
def test_a_count_is_a_whole_number(typed: str, count: int | None) -> None:
    view = {"state": {"values": {"count": {"value": {"value": typed}}}}}
    assert count_value(view) == count


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_modals_respect_slacks_limits(lang: str) -> None:
    for modal in (connection_modal(lang, 3, 5), count_modal(lang, 3, 5)):
        assert len(modal["title"]["text"]) <= 24
        assert modal["private_metadata"] == "3:5"
        assert len(modal["blocks"]) <= 100
        for block in modal["blocks"]:
            assert len(block["label"]["text"]) <= 2000


def test_why_a_slack_file_could_not_be_had_is_said_in_the_readers_language() -> None:
    html = UploadRefused("Slack sent a web page", reason="html")
    assert "files:read スコープ" in refusal_text("ja", html, SLACK)
    http = UploadRefused("HTTP 503 <b>", reason="http")
    assert (
        refusal_text("en", http, SLACK) == "Slack could not deliver the file (HTTP 503 &lt;b&gt;)"
    )
    odd = UploadRefused("something <new>", reason="martian")
    assert refusal_text("en", odd, SLACK) == "something &lt;new&gt;"
