"""Hostile text (huge lines, long names, emoji, Japanese, Slack markup) stays within Slack's limits.

The limits are typed here from DESIGN.md §4 on purpose, independently of the constants the
builders take from slack_sdk: if either drifted, these tests say so. Every payload is also
rebuilt with slack_sdk's models, whose validators must accept it.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk.models.blocks import Block, InputBlock, PlainTextInputElement
from slack_sdk.models.views import View as ModalView

from bot.guidance import instructions
from bot.i18n import MESSAGES
from bot.presenter import (
    Button,
    CaseView,
    Confirm,
    Message,
    Option,
    Prompt,
    connection_result,
    header,
    prompt,
)
from bot.runbook import CaseState, Choice, DecisionPoint, Phase, Step
from handlers.blocks import clip, message_payload, prompt_payload
from handlers.ids import View
from handlers.modals import connection_modal, count_modal, modal
from handlers.style import SLACK

MESSAGE_BLOCKS, MODAL_BLOCKS, SECTION, BUTTON, VALUE, ACTION_ID = 50, 100, 3000, 75, 2000, 255
CONFIRM_TITLE, CONFIRM_TEXT, CONFIRM_BUTTON, MODAL_TITLE, OPTION_TEXT = 100, 300, 30, 24, 75
FALLBACK = 3000

JAPANESE = "接続テストの結果を確認してください。検出ログ、パケットキャプチャ、再起動"
EMOJI = ["🔥", "⚠️", "👨‍👩‍👧‍👦", "🇯🇵", "👍🏽", "✅", "e\u0301", "\u200d", "\ufe0f"]
MARKUP = ["<!channel>", "<@U123>", "<https://evil|click>", "&", "&amp;", "<", ">", "*", "`", "|"]
PERIOD = (datetime(2026, 11, 24, tzinfo=UTC), datetime(2026, 11, 25, tzinfo=UTC))
ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")  # an "&" that does not start a whole escape


def _hostile(rng: random.Random, length: int) -> str:
    parts: list[str] = []
    while sum(map(len, parts)) < length:
        kind = rng.random()
        if kind < 0.3:
            parts.append(rng.choice(JAPANESE) * rng.randint(1, 40))
        elif kind < 0.5:
            parts.append(rng.choice(EMOJI) * rng.randint(1, 30))
        elif kind < 0.7:
            parts.append(rng.choice(MARKUP))
        elif kind < 0.75:
            parts.append("\n" * rng.randint(1, 3))
        else:
            parts.append("x" * rng.randint(1, 500))
    return "".join(parts)[:length]


def _texts(block: Any) -> Iterator[str]:
    """The text of every text object anywhere in a payload."""
    if isinstance(block, dict):
        if block.get("type") in ("plain_text", "mrkdwn"):
            yield block["text"]
        for value in block.values():
            yield from _texts(value)
    elif isinstance(block, list):
        for item in block:
            yield from _texts(item)


def _check_message(payload: dict[str, Any]) -> None:
    assert 0 < len(payload["text"]) <= FALLBACK
    blocks = payload["blocks"]
    assert 0 < len(blocks) <= MESSAGE_BLOCKS
    for block in blocks:
        model = Block.parse(block)
        assert model is not None and model.to_dict() == block  # the SDK's validators accept it
        assert len(block.get("block_id", "")) <= ACTION_ID
        if block["type"] == "section":
            assert 0 < len(block["text"]["text"]) <= SECTION
        for element in block.get("elements", []):
            assert len(element["text"]["text"]) <= BUTTON
            assert len(element["value"]) <= VALUE and len(element["action_id"]) <= ACTION_ID
            confirm = element.get("confirm")
            if confirm:
                assert len(confirm["title"]["text"]) <= CONFIRM_TITLE
                assert len(confirm["text"]["text"]) <= CONFIRM_TEXT
                assert len(confirm["confirm"]["text"]) <= CONFIRM_BUTTON
                assert len(confirm["deny"]["text"]) <= CONFIRM_BUTTON


def _check_escaped(payload: dict[str, Any]) -> None:
    """Outside text was escaped, and clipping never left half an escape or half a mention."""
    shown = [payload["text"], *_texts(payload["blocks"])]
    for text in shown:
        assert not ENTITY.search(text), text
        assert "<!channel>" not in text and "<https://evil" not in text and "<@U123>" not in text


@pytest.mark.parametrize("seed", range(40))
def test_hostile_appliance_names_and_log_text_stay_within_limits(seed: int) -> None:
    rng = random.Random(seed)
    name = _hostile(rng, rng.choice([1, 40, 300, 3000]))
    lang = rng.choice(["en", "ja"])
    state = CaseState(phase=Phase.AWAIT_REBOOT_APPROVAL, reboot_interrupted=rng.random() < 0.5)
    view = CaseView(2**31 - 1, name, "U1", lang, state, 2**31 - 1)
    payloads = [message_payload(header(view, SLACK))]
    log = "\n".join(
        _hostile(rng, rng.choice([10, 3000, 10_000])) for _ in range(rng.randint(1, 80))
    )
    payloads.append(message_payload(connection_result(lang, False, log, False, SLACK)))
    payloads += [prompt_payload(prompt(view, point, SLACK)) for point in DecisionPoint]
    for which in Step:
        message = instructions(
            view, which, SLACK, console=name, capture_interface=name, period=PERIOD,
            upload_limit_mb=512.0,
        )  # fmt: skip
        payloads.append(message_payload(message))
    for payload in payloads:
        _check_message(payload)
        _check_escaped(payload)


@pytest.mark.parametrize("seed", range(40))
def test_hostile_raw_messages_and_prompts_stay_within_limits(seed: int) -> None:
    """Text the presenter never escaped: the builders still keep every limit."""
    rng = random.Random(1000 + seed)
    text = "\n".join(
        _hostile(rng, rng.choice([0, 1, 2999, 3000, 3001, 10_000]))
        for _ in range(rng.randint(1, 200))
    )
    text = text if text.strip("\n") else "x"
    label = _hostile(rng, rng.randint(1, 400))
    buttons = tuple(Button("verified", _hostile(rng, rng.randint(1, 200)), "3:5") for _ in range(3))
    _check_message(message_payload(Message(text, buttons)))
    confirm = Confirm(*(_hostile(rng, rng.randint(1, 1000)) for _ in range(4)))
    options = (
        Option(Choice.APPROVE_REBOOT, label, "danger", confirm, True),
        Option(Choice.REJECT_REBOOT, label[::-1], None, None, False),
    )
    _check_message(prompt_payload(Prompt(1, 2, DecisionPoint.REBOOT, text, options)))


def test_a_10000_character_line_becomes_one_clipped_section() -> None:
    for line in ("y" * 10_000, "日本語" * 3400, "🎉" * 10_000, "&amp;" * 2000):
        payload = message_payload(Message(line))
        (section,) = payload["blocks"]
        shown = section["text"]["text"]
        assert len(shown) <= SECTION and shown.endswith("…") and line.startswith(shown[:-1])
        assert len(shown) == SECTION or shown == "&amp;" * 599 + "…"  # no half "&amp;"
        assert len(payload["text"]) <= FALLBACK and payload["text"].endswith("…")


def test_many_long_lines_fill_at_most_fifty_blocks_with_the_buttons_last() -> None:
    text = "\n".join("z" * 2999 for _ in range(200))
    payload = message_payload(Message(text, (Button("verified", "OK", "3:5", "primary"),)))
    assert len(payload["blocks"]) == MESSAGE_BLOCKS
    assert payload["blocks"][-1]["type"] == "actions"
    _check_message(payload)


def test_a_300_character_appliance_name_is_clipped_in_the_confirm_dialog() -> None:
    state = CaseState(phase=Phase.AWAIT_REBOOT_APPROVAL)
    for name in ("x" * 300, "東" * 300, "🔥" * 300, "&" * 300):
        view = CaseView(7, name, "U1", "ja", state, 12)
        payload = prompt_payload(prompt(view, DecisionPoint.REBOOT, SLACK))
        _check_message(payload)
        _check_escaped(payload)
        title = payload["blocks"][-1]["elements"][0]["confirm"]["title"]["text"]
        assert len(title) == CONFIRM_TITLE or ("&" in name and len(title) <= CONFIRM_TITLE)
        assert title.endswith("…")


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("exactly10!", 10, "exactly10!"),
        ("eleven char", 10, "eleven ch…"),
        ("接続テストの結果を確認", 5, "接続テス…"),
        ("a&amp;b", 4, "a…"),  # never half an escape
        ("ab&lt;cd", 7, "ab&lt;…"),
        ("ab&gt;", 5, "ab…"),
        ("see <@U123ABC> now", 10, "see …"),  # never half a mention
        ("<https://example.com|a link>", 10, "…"),
        ("ok <@U1> then more", 12, "ok <@U1> th…"),
        ("anything", 1, "…"),
        ("anything", 0, ""),
    ],
)
def test_clip_keeps_within_the_limit_and_never_splits_markup(
    text: str, limit: int, expected: str
) -> None:
    assert clip(text, limit) == expected
    assert len(clip(text, limit)) <= limit


def _modal_texts(view: dict[str, Any]) -> list[tuple[str, str]]:
    return [(key, view[key]["text"]) for key in ("title", "submit", "close")]


def test_a_japanese_modal_title_longer_than_24_characters_is_clipped() -> None:
    long_title = "接続テストの結果（コンソールに表示されたメッセージと保守作業の有無）"
    assert len(long_title) > MODAL_TITLE
    blocks = [InputBlock(block_id="b", label="L", element=PlainTextInputElement(action_id="v"))]
    view = modal(View.CONNECTION_MESSAGE, long_title, "ja", "3:5", blocks)
    assert view["title"]["text"] == long_title[: MODAL_TITLE - 1] + "…"
    assert ModalView(**view).to_dict() == view


def test_the_real_modals_clip_an_overlong_japanese_title(monkeypatch: pytest.MonkeyPatch) -> None:
    long_title = "接続テストの結果（コンソールに表示されたメッセージ）"
    monkeypatch.setitem(MESSAGES["modal.connection.title"], "ja", long_title)
    monkeypatch.setitem(MESSAGES["modal.count.title"], "ja", long_title)
    for view in (connection_modal("ja", 3, 5), count_modal("ja", 3, 5)):
        assert view["title"]["text"] == long_title[: MODAL_TITLE - 1] + "…"
        assert ModalView(**view).to_dict() == view
    assert connection_modal("en", 3, 5)["title"]["text"] == "Connection test result"


def test_modals_built_from_overlong_japanese_texts_stay_valid(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    very_long = "🔥接続テストの結果と保守作業の有無を入力してください" * 200
    for key in MESSAGES:
        if key.startswith("modal."):
            monkeypatch.setitem(MESSAGES[key], "ja", very_long)
    for view in (connection_modal("ja", 3, 5), count_modal("ja", 3, 5)):
        assert ModalView(**view).to_dict() == view  # the SDK's validators accept it
        for key, text in _modal_texts(view):
            assert 0 < len(text) <= MODAL_TITLE and text.endswith("…"), key
        assert len(view["blocks"]) <= MODAL_BLOCKS
        for block in view["blocks"]:
            assert len(block["label"]["text"]) <= 2000
            assert Block.parse(block) is not None
            for option in block["element"].get("options", []):
                assert len(option["text"]["text"]) <= OPTION_TEXT
        assert view["private_metadata"] == "3:5"
        json.dumps(view)  # JSON-ready
