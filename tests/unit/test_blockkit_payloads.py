"""Every payload the Block Kit builders produce is one slack_sdk's models accept and rebuild.

A payload is parsed back into slack_sdk's model classes (``Block.parse``, ``View``) and serialised
again: serialising runs every validator the SDK has (``SlackObjectFormationError`` if a limit is
exceeded), and the result must equal what was sent, so nothing was dropped or invented on the way.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block, ButtonElement, Option
from slack_sdk.models.views import View as ModalView

from bot.guidance import instructions
from bot.presenter import (
    Button,
    CaseView,
    Message,
    closed,
    connection_result,
    decided,
    header,
    prompt,
    step_failed,
)
from bot.runbook import CaseState, DecisionPoint, Phase, Step
from bot.runbook.evidence import evidence
from handlers.actions import parse_decision
from handlers.blocks import message_payload, prompt_payload
from handlers.guided import parse_guide
from handlers.ids import DECIDE_PATTERN, GUIDE_PATTERN, View
from handlers.modals import MAINTENANCE_ANSWERS, connection_modal, count_modal
from handlers.style import SLACK

LANGS = ("en", "ja")
NAMES = (
    "ddi-tokyo-1",
    "x" * 300,
    "<!channel> & <https://evil|co>",
    "東京センサー" * 50,
    "🔥" * 300,
)
PERIOD = (datetime(2026, 11, 24, tzinfo=UTC), datetime(2026, 11, 25, tzinfo=UTC))
WHEN = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


def _views() -> Iterator[CaseView]:
    for lang in LANGS:
        for name in NAMES:
            for interrupted in (False, True):
                state = replace(
                    CaseState(phase=Phase.AWAIT_REBOOT_APPROVAL),
                    reboot_interrupted=interrupted,
                    detections_per_day=3.25,
                )
                yield CaseView(7, name, "U1", lang, state, 12)


def _messages() -> Iterator[Message]:
    for view in _views():
        yield header(view, SLACK)
        yield closed(view)
        yield connection_result(view.lang, False, view.appliance * 40, True, SLACK)
        yield step_failed(view.lang, Step.PACKET_CAPTURE, "capture", view.appliance)
        for point in DecisionPoint:
            yield decided(
                view, point, prompt(view, point, SLACK).options[0].choice, "U9", WHEN, SLACK
            )
        for which in Step:
            yield instructions(
                view,
                which,
                SLACK,
                console="[2001:db8::5]:8443",
                capture_interface=view.appliance,
                period=PERIOD,
                upload_limit_mb=512.0,
            )


def _message_payloads() -> Iterator[dict[str, Any]]:
    for message in _messages():
        yield message_payload(message)


def _prompt_payloads() -> Iterator[dict[str, Any]]:
    for view in _views():
        for point in DecisionPoint:
            yield prompt_payload(prompt(view, point, SLACK))


def _modals() -> Iterator[dict[str, Any]]:
    for lang in LANGS:
        yield connection_modal(lang, 3, 5)
        yield count_modal(lang, 3, 5)


def _round_trip_block(block: dict[str, Any]) -> None:
    model = Block.parse(block)
    assert model is not None, block
    assert model.to_dict() == block
    for element in block.get("elements", []):
        assert ButtonElement(**element).to_dict() == element
    # The SDK keeps radio options as the dicts it was given: validate them as Options too.
    for option in block.get("element", {}).get("options", []):
        assert Option(**option).to_dict() == option


def _round_trip_message(payload: dict[str, Any]) -> None:
    assert set(payload) == {"text", "blocks"}
    assert isinstance(payload["text"], str) and payload["text"]
    assert 0 < len(payload["blocks"]) <= 50
    for block in payload["blocks"]:
        _round_trip_block(block)


def test_every_message_payload_validates_and_round_trips() -> None:
    count = 0
    for payload in _message_payloads():
        _round_trip_message(payload)
        count += 1
    assert count > 100


def test_every_prompt_payload_validates_and_round_trips() -> None:
    for payload in _prompt_payloads():
        _round_trip_message(payload)
        assert payload["blocks"][-1]["type"] == "actions"


@pytest.mark.parametrize("modal", list(_modals()), ids=lambda m: m["callback_id"])
def test_every_modal_validates_and_round_trips(modal: dict[str, Any]) -> None:
    assert ModalView(**modal).to_dict() == modal
    for block in modal["blocks"]:
        _round_trip_block(block)


def test_ids_and_values_keep_the_formats_the_click_handlers_parse() -> None:
    for view in _views():
        for point in DecisionPoint:
            actions = prompt_payload(prompt(view, point, SLACK))["blocks"][-1]
            assert actions["block_id"] == "ddi_prompt:7:12"
            for element in actions["elements"]:
                assert DECIDE_PATTERN.match(element["action_id"])
                decision = parse_decision(element)
                assert decision is not None and decision[:2] == (7, 12)
                if point == DecisionPoint.REBOOT:  # bound to the evidence shown
                    assert element["value"] == f"7:12:{evidence(view.state)}"
                    assert decision[3] == evidence(view.state)
                else:
                    assert element["value"] == "7:12"
                    assert decision[3] is None
        for which in (Step.CONNECTION_TEST, Step.DETECTION_QUERY, Step.REBOOT):
            message = instructions(
                view, which, SLACK, console=None, capture_interface=None, period=PERIOD,
                upload_limit_mb=1.0,
            )  # fmt: skip
            actions = message_payload(message)["blocks"][-1]
            assert actions["block_id"] == "ddi_guide:7:12"
            for element in actions["elements"]:
                assert GUIDE_PATTERN.match(element["action_id"])
                assert parse_guide(element) is not None and element["value"] == "7:12"


def test_the_json_has_only_the_fields_it_had_before() -> None:
    """No defaults were added by the models (no "emoji", no "verbatim", no generated ids)."""
    state = CaseState(phase=Phase.AWAIT_REBOOT_APPROVAL)
    payload = prompt_payload(
        prompt(CaseView(7, "n", "U1", "en", state, 12), DecisionPoint.REBOOT, SLACK)
    )
    plain = {"type": "plain_text"}
    assert payload["blocks"][1] == {
        "type": "actions",
        "block_id": "ddi_prompt:7:12",
        "elements": [
            {
                "type": "button",
                "action_id": "ddi_decide:approve_reboot",
                "text": {**plain, "text": "Approve reboot"},
                "value": f"7:12:{evidence(state)}",
                "style": "danger",
                "confirm": {
                    "title": {**plain, "text": "Reboot n?"},
                    "text": {
                        **plain,
                        "text": "The sensor stops inspecting traffic for several minutes. "
                        "Reboot now?",
                    },
                    "confirm": {**plain, "text": "Reboot"},
                    "deny": {**plain, "text": "Cancel"},
                    "style": "danger",
                },
            },
            {
                "type": "button",
                "action_id": "ddi_decide:reject_reboot",
                "text": {**plain, "text": "Reject"},
                "value": f"7:12:{evidence(state)}",
            },
        ],
    }
    assert payload["blocks"][0] == {
        "type": "section",
        "text": {"type": "mrkdwn", "text": payload["text"]},
    }
    assert count_modal("en", 3, 5) == {
        "type": "modal",
        "callback_id": View.DETECTION_COUNT.value,
        "private_metadata": "3:5",
        "title": {**plain, "text": "Detections found"},
        "submit": {**plain, "text": "Submit"},
        "close": {**plain, "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": "count",
                "label": {**plain, "text": "Number of detections the query found"},
                "element": {"type": "plain_text_input", "action_id": "value", "max_length": 12},
            }
        ],
    }


def test_the_connection_modal_keeps_its_blocks_and_answers() -> None:
    modal = connection_modal("ja", 3, 5)
    assert modal["callback_id"] == View.CONNECTION_MESSAGE.value
    message, maintenance, notes = modal["blocks"]
    assert [b["block_id"] for b in modal["blocks"]] == ["message", "maintenance", "notes"]
    assert all(b["element"]["action_id"] == "value" for b in modal["blocks"])
    assert message["element"] == {
        "type": "plain_text_input",
        "action_id": "value",
        "multiline": True,
        "max_length": 2000,
    }
    assert "optional" not in message and notes["optional"] is True
    options = maintenance["element"]["options"]
    assert tuple(o["value"] for o in options) == MAINTENANCE_ANSWERS
    assert options[0] == {"text": {"type": "plain_text", "text": "あった"}, "value": "yes"}


def test_an_id_or_value_too_long_for_slack_is_refused_not_clipped() -> None:
    """Ids and values must reach the click handlers exactly; the models are the second check."""
    too_long = Message("hi", (Button("verified", "OK", "3:" + "5" * 2000),))
    with pytest.raises(SlackObjectFormationError, match="cannot exceed"):
        message_payload(too_long)
