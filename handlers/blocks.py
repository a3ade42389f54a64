"""Block Kit builders: pure functions from presenter messages to Slack payloads.

The payloads are built with slack_sdk's Block Kit models and returned as JSON-ready dicts. Text is
clipped to Slack's limits before a model is built, so a 300-character appliance name or a
10,000-character log line shortens a message instead of breaking it; the models check the limits
again when serialised (``SlackObjectFormationError``), which catches a limit this module forgot.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.presenter import Button, Message, Option, Prompt
from handlers.ids import button_action_id, button_block_id, decide_action_id, decision_value

SECTION_LIMIT = SectionBlock.text_max_length  # 3000
BUTTON_TEXT_LIMIT = ButtonElement.text_max_length  # 75
CONFIRM_TITLE_LIMIT = ConfirmObject.title_max_length  # 100
CONFIRM_TEXT_LIMIT = ConfirmObject.text_max_length  # 300
CONFIRM_BUTTON_LIMIT = min(ConfirmObject.confirm_max_length, ConfirmObject.deny_max_length)  # 30
# Not limits slack_sdk exposes: the fallback's length is our choice (Slack truncates `text` at
# 40,000), and 50 blocks per message is Slack's own limit (a modal's is View.blocks_max_length).
TEXT_FALLBACK_LIMIT = 3000
MAX_BLOCKS = 50

ELLIPSIS = "…"
_ENTITY_MAX = len("&amp;")  # the longest of the three escapes Slack needs (slack_escape)


def clip(text: str, limit: int) -> str:
    """``text`` if it fits in ``limit`` characters, else its start and an ellipsis.

    The cut never ends inside an escape (``&amp;``, ``&lt;``, ``&gt;``) or a mention or link
    (``<@U123>``, ``<https://…|label>``): Slack would show half of it as literal text.
    """
    if len(text) <= limit:
        return text
    head = text[: max(limit - len(ELLIPSIS), 0)]
    amp = head.rfind("&")
    if amp >= 0 and ";" not in head[amp:] and len(head) - amp < _ENTITY_MAX:
        head = head[:amp]
    opened = head.rfind("<")
    if opened > head.rfind(">"):
        head = head[:opened]
    return head + ELLIPSIS if limit >= len(ELLIPSIS) else head


def _plain(text: str, limit: int) -> PlainTextObject:
    return PlainTextObject(text=clip(text, limit))


def text_sections(text: str) -> list[Block]:
    """Split long text at line breaks into sections under Slack's 3000-character limit."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        line = clip(line, SECTION_LIMIT)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > SECTION_LIMIT:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current:
        chunks.append(current)
    return [SectionBlock(text=MarkdownTextObject(text=chunk)) for chunk in chunks[: MAX_BLOCKS - 1]]


def _payload(text: str, blocks: list[Block]) -> dict[str, Any]:
    """The JSON-ready payload; serialising the models checks every limit a second time."""
    return {"text": clip(text, TEXT_FALLBACK_LIMIT), "blocks": [b.to_dict() for b in blocks]}


def message_payload(message: Message) -> dict[str, Any]:
    blocks = text_sections(message.text)
    if message.buttons:
        first = message.buttons[0]
        blocks = blocks[: MAX_BLOCKS - 1]
        blocks.append(
            ActionsBlock(
                block_id=button_block_id(first.action, first.value),
                elements=[_message_button(b) for b in message.buttons],
            )
        )
    return _payload(message.text, blocks)


def _message_button(button: Button) -> ButtonElement:
    return ButtonElement(
        action_id=button_action_id(button.action),
        text=_plain(button.label, BUTTON_TEXT_LIMIT),
        value=button.value,
        style=button.style or None,
    )


def _confirm(option: Option) -> ConfirmObject | None:
    c = option.confirm
    if c is None:
        return None
    return ConfirmObject(
        title=_plain(c.title, CONFIRM_TITLE_LIMIT),
        text=_plain(c.text, CONFIRM_TEXT_LIMIT),  # plain: the model's default would be mrkdwn
        confirm=_plain(c.confirm, CONFIRM_BUTTON_LIMIT),
        deny=_plain(c.deny, CONFIRM_BUTTON_LIMIT),
        style="danger",
    )


def _button(prompt: Prompt, option: Option) -> ButtonElement:
    return ButtonElement(
        action_id=decide_action_id(option.choice),
        text=_plain(option.label, BUTTON_TEXT_LIMIT),
        value=decision_value(prompt.case_id, prompt.version, prompt.evidence),
        style=option.style or None,
        confirm=_confirm(option),
    )


def prompt_payload(prompt: Prompt) -> dict[str, Any]:
    blocks = text_sections(prompt.text)
    blocks.append(
        ActionsBlock(
            block_id=f"ddi_prompt:{prompt.case_id}:{prompt.version}",
            elements=[_button(prompt, option) for option in prompt.options],
        )
    )
    return _payload(prompt.text, blocks)
