"""What a transition shows people (pure): the table of transition -> outbox items."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from bot.engine.narration import narrate, opening, prompt_key
from bot.engine.note import Note
from bot.engine.outgoing import Kind, Outgoing
from bot.messenger import Attachment
from bot.presenter import CaseView, Message, Prompt
from bot.report import ReportFacts
from bot.runbook import CaseState, Choice, Phase, Timing, start, step
from bot.runbook.messages import (
    ConnectionTested,
    Decided,
    DetectionsCounted,
    Observation,
    RebootSent,
    ThreadFailed,
)
from bot.watch.alert import Alert
from bot.watch.findings import FLEET, Condition
from handlers.style import SLACK

NOW = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)
T = Timing(recheck_delay=6 * 3600.0, approval_ttl=4 * 3600.0)


def _view(state: CaseState, version: int = 3, lang: str = "en") -> CaseView:
    return CaseView(7, "ddi-<osaka>", "U1", lang, state, version)


def _narrate(
    state: CaseState,
    obs: Observation,
    note: Note | None = None,
    facts: ReportFacts | None = None,
    reboots: int = 0,
) -> list[Outgoing]:
    decision = step(state, obs, T)
    before, after = _view(state), _view(decision.state, 4)
    return narrate(
        before, after, obs, decision.effects, note or Note(), now=NOW, style=SLACK,
        facts=facts, reboots=reboots,
    )  # fmt: skip


def test_a_new_case_starts_with_its_root_message() -> None:
    (root,) = opening(_view(start().state, 1), SLACK)
    assert root.kind == Kind.ROOT and isinstance(root.content, Message)
    assert "ddi-&lt;osaka&gt;" in root.content.text  # outside text escaped for Slack
    assert "Running step 1" in root.content.text


def test_a_result_is_posted_then_the_root_message_updated() -> None:
    note = Note(message=Message("*Step 1* done"))
    items = _narrate(CaseState(Phase.CONNECTION_TEST), ConnectionTested(True, "x"), note)
    assert [i.kind for i in items] == [Kind.POST, Kind.HEADER]
    assert items[0].content == Message("*Step 1* done")
    assert "Running step 2" in items[1].content.text


def test_a_question_is_queued_once_per_case_version() -> None:
    items = _narrate(CaseState(Phase.DETECTION_QUERY), DetectionsCounted(0))
    question = next(i for i in items if isinstance(i.content, Prompt))
    assert question.key == prompt_key(_view(CaseState(Phase.DETECTION_QUERY), 4)) == "prompt:7:4"
    assert question.content.version == 4  # answers to it are for this version only


def test_a_decision_shows_on_the_clicked_question_without_buttons() -> None:
    state = CaseState(Phase.AWAIT_DEBUG_DECISION)
    items = _narrate(state, Decided(Choice.SKIP, "U2"), Note(actor="U2", clicked="1700.1"))
    update = next(i for i in items if i.kind == Kind.UPDATE)
    assert update.target_ts == "1700.1" and not update.content.buttons
    assert "<@U2>" in update.content.text and "2026-12-01 21:00:00 UTC" in update.content.text
    # the reboot question follows, and the root message says until when approval is open
    header = next(i for i in items if i.kind == Kind.HEADER)
    assert "Waiting for an approver (expires 2026-12-02 01:00 UTC)" in header.content.text


def test_quiet_says_when_step_2_runs_again_on_the_root_message_too() -> None:
    state = CaseState(Phase.AWAIT_TRAFFIC_DECISION)
    items = _narrate(state, Decided(Choice.QUIET, "U2"))
    texts = [i.content.text for i in items if i.content is not None]
    assert any("2026-12-02 03:00 UTC" in t and "runs again" in t for t in texts)
    header = next(i for i in items if i.kind == Kind.HEADER)
    assert "Waiting for the re-check at 2026-12-02 03:00 UTC" in header.content.text


def test_an_escalation_posts_the_vendor_report_and_the_closing_line() -> None:
    state = CaseState(Phase.AWAIT_FIX)
    facts = ReportFacts(files=(("debug.zip", 12, "ab" * 32),))
    items = _narrate(state, Decided(Choice.ESCALATE, "U2"), facts=facts, reboots=0)
    texts = [i.content.text for i in items if i.kind == Kind.POST]
    assert "Vendor report" in texts[-2] and "debug.zip" in texts[-2]
    assert texts[-1].startswith("*Escalated*")


def test_an_abandoned_case_only_tells_the_person_who_asked() -> None:
    items = _narrate(CaseState(Phase.CONNECTION_TEST), ThreadFailed("not_in_channel"))
    assert [i.kind for i in items] == [Kind.REPLY]
    assert "not_in_channel" in items[0].text and "Invite the bot" in items[0].text


def test_a_persons_answer_is_signed_and_a_chart_attached() -> None:
    state = CaseState(Phase.CONNECTION_TEST, guided=True)
    chart = Attachment("c.png", b"\x89PNG", "chart")
    note = Note(message=Message("result"), actor="U9", answer="verified", attachments=(chart,))
    items = _narrate(state, ConnectionTested(True, "x"), note)
    assert items[0].content.text == "result\nAnswered by <@U9>."
    assert items[1].kind == Kind.ATTACH and items[1].attachment == chart
    header = next(i for i in items if i.kind == Kind.HEADER)
    # the next step is the person's: who must act is on the root message
    assert "Waiting for <@U1> to post the detection log export" in header.content.text


def test_the_person_who_rebooted_it_is_named() -> None:
    state = replace(CaseState(Phase.REBOOT_INSTRUCTED, guided=True), reboot_attempts=1)
    items = _narrate(state, RebootSent(NOW.timestamp()), Note(actor="U9", answer="rebooted"))
    assert "<@U9>" in items[0].content.text
    header = next(i for i in items if i.kind == Kind.HEADER)
    assert "Waiting for the sensor to restart (gives up at 2026-12-01 21:20 UTC)" in (
        header.content.text
    )


def test_japanese_cases_speak_japanese_on_the_root_message() -> None:
    state = CaseState(Phase.AWAIT_TRAFFIC_DECISION)
    decision = step(state, Decided(Choice.QUIET, "U2"), T)
    before, after = _view(state, lang="ja"), _view(decision.state, 4, lang="ja")
    items = narrate(before, after, Decided(Choice.QUIET, "U2"), decision.effects, Note(),
                    now=NOW, style=SLACK)  # fmt: skip
    header = next(i for i in items if i.kind == Kind.HEADER)
    assert "2026-12-02 03:00 UTC の再確認を待っています" in header.content.text


def test_a_reboot_question_under_a_fleet_alert_says_the_cause_is_not_the_sensor() -> None:
    state = CaseState(Phase.AWAIT_DEBUG_DECISION)
    obs = Decided(Choice.SKIP, "U1")
    decision = step(state, obs, T)
    before, after = _view(state), _view(decision.state, 4)
    fleet = Alert(
        alert_id=3,
        condition=Condition.PORTAL,
        appliance=FLEET,
        target="portal.example:443",
        opened_at=NOW,
        members=("ddi-<osaka>", "b", "c"),
    )
    warned = narrate(before, after, obs, decision.effects, Note(), now=NOW, style=SLACK,
                     fleet=fleet)  # fmt: skip
    plain = narrate(before, after, obs, decision.effects, Note(), now=NOW, style=SLACK)
    texts = [i.content.text for i in warned if i.content is not None]
    (warning,) = [text for text in texts if "Before you approve" in text]
    assert "portal.example:443" in warning and "a reboot will not bring it back" in warning
    prompts = [i for i in warned if isinstance(i.content, Prompt)]
    assert prompts and texts.index(warning) < texts.index(prompts[0].content.text)
    assert len(warned) == len(plain) + 1
    assert not any("Before you approve" in (i.content.text if i.content else "") for i in plain)
