"""Block Kit builders stay inside Slack's limits and escape outside text."""

from __future__ import annotations

from dataclasses import replace

from bot.errors import AlreadyDecided, UnknownAppliance
from bot.messenger import from_body, to_body
from bot.presenter import CaseView, Message, error_message, header, ordinal, prompt
from bot.runbook import CaseState, Choice, DecisionPoint, Phase
from bot.runbook.evidence import evidence
from handlers.actions import parse_decision
from handlers.blocks import message_payload, prompt_payload
from handlers.commands import parse_command_text
from handlers.style import SLACK


def _view(name: str = "ddi-tokyo-1", **changes: object) -> CaseView:
    state = replace(CaseState(phase=Phase.AWAIT_REBOOT_APPROVAL), **changes)  # type: ignore[arg-type]
    return CaseView(7, name, "U1", "en", state, 12)


def test_long_text_is_split_into_sections_within_limits() -> None:
    text = "\n".join(f"line {i} " + "x" * 200 for i in range(100))
    payload = message_payload(Message(text))
    assert len(payload["blocks"]) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in payload["blocks"])
    assert len(payload["text"]) <= 3000
    one_huge_line = message_payload(Message("y" * 10_000))
    assert all(len(b["text"]["text"]) <= 3000 for b in one_huge_line["blocks"])


def test_reboot_prompt_is_a_danger_button_with_a_confirm_dialog() -> None:
    payload = prompt_payload(prompt(_view("x" * 300), DecisionPoint.REBOOT, SLACK))
    actions = payload["blocks"][-1]
    approve, reject = actions["elements"]
    assert approve["style"] == "danger"
    assert approve["value"] == reject["value"] == f"7:12:{evidence(_view().state)}"
    assert approve["action_id"] == "ddi_decide:approve_reboot"
    confirm = approve["confirm"]
    assert len(confirm["title"]["text"]) <= 100 and len(confirm["text"]["text"]) <= 300
    assert all(len(confirm[k]["text"]) <= 30 for k in ("confirm", "deny"))
    assert len(approve["text"]["text"]) <= 75
    assert "Reject" in reject["text"]["text"] and "confirm" not in reject
    assert len(actions["block_id"]) <= 255


def test_interrupted_reboot_warns_the_approver() -> None:
    text = prompt(_view(reboot_interrupted=True), DecisionPoint.REBOOT, SLACK).text
    assert text.startswith("Warning: an earlier reboot attempt was interrupted")


def test_outside_text_cannot_ping_or_fake_links() -> None:
    view = _view("<!channel> <https://evil|click> & co")
    text = header(view, SLACK).text
    assert "<!channel>" not in text and "<https://" not in text
    assert "&lt;!channel&gt; &lt;https://evil|click&gt; &amp; co" in text
    err = UnknownAppliance("<@U123>", name="<@U123>", suggestions=["<!here>"])
    shown = error_message("en", err, SLACK)
    assert "<@U123>" not in shown and "<!here>" not in shown


def test_already_decided_names_the_person_and_choice() -> None:
    err = AlreadyDecided("x", stale=False, choice="approve_reboot", user="U9")
    assert error_message("en", err, SLACK) == (
        "This was already decided: *Approve reboot* by <@U9>."
    )
    assert "no longer current" in error_message("en", AlreadyDecided("x", stale=True), SLACK)
    assert "古く" in error_message("ja", AlreadyDecided("x", stale=True), SLACK)


def test_command_text_parsing() -> None:
    assert parse_command_text("") == ("help", None)
    assert parse_command_text("  help ") == ("help", None)
    assert parse_command_text("ddi-tokyo-1 extra words") == ("check", "ddi-tokyo-1")
    assert parse_command_text("escalate ddi-tokyo-1") == ("escalate", "ddi-tokyo-1")
    assert parse_command_text("escalate") == ("check", "escalate")


def test_decision_payload_parsing_rejects_malformed_values() -> None:
    ok = {"action_id": "ddi_decide:approve_reboot", "value": "3:9"}
    assert parse_decision(ok) == (3, 9, Choice.APPROVE_REBOOT, None)
    bound = {"action_id": "ddi_decide:approve_reboot", "value": "3:9:0123456789abcdef"}
    assert parse_decision(bound) == (3, 9, Choice.APPROVE_REBOOT, "0123456789abcdef")
    for bad in (
        {"action_id": "ddi_decide:approve_reboot", "value": "3:9:"},
        {"action_id": "ddi_decide:approve_reboot", "value": "3:9:0123"},
        {"action_id": "ddi_decide:approve_reboot", "value": "3:9:0123456789ABCDEF"},
        {"action_id": "ddi_decide:approve_reboot", "value": "3:9:0123456789abcdef:x"},
        {"action_id": "ddi_decide:approve_reboot", "value": "3"},
        {"action_id": "ddi_decide:approve_reboot", "value": "a:b"},
        {"action_id": "ddi_decide:self_destruct", "value": "3:9"},
        {"action_id": "other", "value": "3:9"},
        {"action_id": "ddi_decide:skip", "value": "99999999999999999999:1"},
        {"action_id": "ddi_decide:skip", "value": "-1:1"},
        {},
    ):
        assert parse_decision(bad) is None


def test_a_refused_capture_says_why() -> None:
    from bot.presenter import step_failed
    from bot.runbook import Step

    text = step_failed("en", Step.PACKET_CAPTURE, "capture", "compression ratio 1000:1").text
    assert "could not run: the exported capture could not be read" in text
    assert "`compression ratio 1000:1`" in text
    assert "`" not in step_failed("ja", Step.PACKET_CAPTURE, "timeout").text


def test_the_sensor_address_is_read_from_any_console_form() -> None:
    from bot.engine.driver_steps import ip_of

    assert ip_of("192.0.2.10:443") == ip_of("192.0.2.10") == "192.0.2.10"
    assert ip_of("https://192.0.2.10") == "192.0.2.10"
    assert ip_of("https://192.0.2.10/html/x.htm") is None  # the inventory refuses a path
    assert ip_of("[2001:db8::5]:443") == ip_of("2001:db8::5") == "2001:db8::5"
    assert ip_of("ddi-osaka.example.net:443") is None and ip_of(None) is None
    assert ip_of("[not-an-address") is None


def test_a_queued_question_keeps_its_evidence_through_the_outbox() -> None:
    question = prompt(_view(), DecisionPoint.REBOOT, SLACK)
    assert question.evidence is not None
    assert from_body(to_body(question)) == question
    old = to_body(question)
    stored = old["prompt"]
    assert isinstance(stored, dict)
    del stored["evidence"]  # a row queued before evidence binding
    assert from_body(old) == replace(question, evidence=None)


def test_a_repeat_case_says_how_many_the_sensor_had_this_week() -> None:
    assert [ordinal("en", n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th",
    ]  # fmt: skip
    assert "case for this sensor" not in header(_view(), SLACK).text
    third = header(replace(_view(), recent=3), SLACK).text
    assert "🔁 3rd case for this sensor in 7 days" in third.splitlines()[2]
    ja = header(replace(_view(), lang="ja", recent=3), SLACK).text
    assert "7 日間で 3 件目" in ja
