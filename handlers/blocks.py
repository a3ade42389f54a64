"""Block Kit builders: pure functions from presenter messages to Slack payloads."""

from __future__ import annotations

from typing import Any

from bot.presenter import Button, Message, Option, Prompt
from handlers.ids import decide_action_id, guide_action_id

SECTION_LIMIT = 3000
BUTTON_TEXT_LIMIT = 75
CONFIRM_TITLE_LIMIT = 100
CONFIRM_TEXT_LIMIT = 300
CONFIRM_BUTTON_LIMIT = 30
TEXT_FALLBACK_LIMIT = 3000
MAX_BLOCKS = 50


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _sections(text: str) -> list[dict[str, Any]]:
    """Split long text at line breaks into sections under Slack's 3000-character limit."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        line = _clip(line, SECTION_LIMIT)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > SECTION_LIMIT:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current:
        chunks.append(current)
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": chunk}}
        for chunk in chunks[: MAX_BLOCKS - 1]
    ]


def message_payload(message: Message) -> dict[str, Any]:
    blocks = _sections(message.text)
    if message.buttons:
        blocks = blocks[: MAX_BLOCKS - 1]
        blocks.append(
            {
                "type": "actions",
                "block_id": f"ddi_guide:{message.buttons[0].value}",
                "elements": [_guide_button(b) for b in message.buttons],
            }
        )
    return {"text": _clip(message.text, TEXT_FALLBACK_LIMIT), "blocks": blocks}


def _guide_button(button: Button) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "action_id": guide_action_id(button.action),
        "text": {"type": "plain_text", "text": _clip(button.label, BUTTON_TEXT_LIMIT)},
        "value": button.value,
    }
    if button.style:
        element["style"] = button.style
    return element


def _button(prompt: Prompt, option: Option) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": decide_action_id(option.choice),
        "text": {"type": "plain_text", "text": _clip(option.label, BUTTON_TEXT_LIMIT)},
        "value": f"{prompt.case_id}:{prompt.version}",
    }
    if option.style:
        button["style"] = option.style
    if option.confirm:
        c = option.confirm
        button["confirm"] = {
            "title": {"type": "plain_text", "text": _clip(c.title, CONFIRM_TITLE_LIMIT)},
            "text": {"type": "plain_text", "text": _clip(c.text, CONFIRM_TEXT_LIMIT)},
            "confirm": {"type": "plain_text", "text": _clip(c.confirm, CONFIRM_BUTTON_LIMIT)},
            "deny": {"type": "plain_text", "text": _clip(c.deny, CONFIRM_BUTTON_LIMIT)},
            "style": "danger",
        }
    return button


def prompt_payload(prompt: Prompt) -> dict[str, Any]:
    blocks = _sections(prompt.text)
    blocks.append(
        {
            "type": "actions",
            "block_id": f"ddi_prompt:{prompt.case_id}:{prompt.version}",
            "elements": [_button(prompt, option) for option in prompt.options],
        }
    )
    return {"text": _clip(prompt.text, TEXT_FALLBACK_LIMIT), "blocks": blocks}
