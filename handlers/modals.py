"""Modals for guided answers (pure builders and parsers of Slack view payloads).

The views are built with slack_sdk's ``View`` and input models and returned as dicts; every text
is clipped to its Slack limit first (a modal's title, submit and close take 24 characters).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
)
from slack_sdk.models.views import View as ModalView

from bot.i18n import t
from handlers.blocks import clip
from handlers.ids import View, case_ref

MESSAGE_BLOCK = "message"
MAINTENANCE_BLOCK = "maintenance"
NOTES_BLOCK = "notes"
COUNT_BLOCK = "count"
MAINTENANCE_ANSWERS = ("yes", "no", "unknown")
MAX_INPUT = 2000
INPUT_ACTION = "value"  # the action id of every input; the parsers below read it

TITLE_LIMIT = ModalView.title_max_length  # 24
SUBMIT_LIMIT = ModalView.submit_max_length  # 24
CLOSE_LIMIT = ModalView.close_max_length  # 24
LABEL_LIMIT = InputBlock.label_max_length  # 2000
OPTION_LIMIT = Option.label_max_length  # 75


def _plain(text: str, limit: int) -> PlainTextObject:
    return PlainTextObject(text=clip(text, limit))


def modal(
    callback: View, title: str, lang: str, meta: str, blocks: Sequence[Block]
) -> dict[str, Any]:
    """A modal with the app's submit and cancel buttons, as the dict ``views.open`` takes."""
    view = ModalView(
        type="modal",
        callback_id=callback.value,
        private_metadata=meta,
        title=_plain(title, TITLE_LIMIT),
        submit=_plain(t(lang, "modal.submit"), SUBMIT_LIMIT),
        close=_plain(t(lang, "modal.cancel"), CLOSE_LIMIT),
        blocks=blocks,
    )
    return view.to_dict()


def _text_input(block_id: str, label: str, *, optional: bool = False) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=_plain(label, LABEL_LIMIT),
        element=PlainTextInputElement(action_id=INPUT_ACTION, multiline=True, max_length=MAX_INPUT),
        optional=optional or None,
    )


def connection_modal(lang: str, case_id: int, version: int) -> dict[str, Any]:
    """Step 1: the message the console showed, and the maintenance question for the vendor."""
    options = [
        Option(value=a, text=_plain(t(lang, f"modal.maintenance.{a}"), OPTION_LIMIT))
        for a in MAINTENANCE_ANSWERS
    ]
    blocks: list[Block] = [
        _text_input(MESSAGE_BLOCK, t(lang, "modal.connection.message")),
        InputBlock(
            block_id=MAINTENANCE_BLOCK,
            label=_plain(t(lang, "modal.maintenance"), LABEL_LIMIT),
            element=RadioButtonsElement(action_id=INPUT_ACTION, options=options),
        ),
        _text_input(NOTES_BLOCK, t(lang, "modal.maintenance.notes"), optional=True),
    ]
    title = t(lang, "modal.connection.title")
    return modal(View.CONNECTION_MESSAGE, title, lang, f"{case_id}:{version}", blocks)


def count_modal(lang: str, case_id: int, version: int) -> dict[str, Any]:
    blocks: list[Block] = [
        InputBlock(
            block_id=COUNT_BLOCK,
            label=_plain(t(lang, "modal.count.label"), LABEL_LIMIT),
            element=PlainTextInputElement(action_id=INPUT_ACTION, max_length=12),
        )
    ]
    title = t(lang, "modal.count.title")
    return modal(View.DETECTION_COUNT, title, lang, f"{case_id}:{version}", blocks)


def case_of(view: dict[str, Any]) -> tuple[int, int] | None:
    """(case id, version) from a submitted view's private metadata, or None if malformed."""
    return case_ref(view.get("private_metadata", ""))


def _value(view: dict[str, Any], block: str) -> Any:
    state = view.get("state", {}).get("values", {})
    return state.get(block, {}).get(INPUT_ACTION, {})


def text_value(view: dict[str, Any], block: str) -> str:
    value = _value(view, block).get("value")
    return str(value)[:MAX_INPUT] if value else ""


def choice_value(view: dict[str, Any], block: str) -> str | None:
    selected = _value(view, block).get("selected_option") or {}
    value = selected.get("value")
    return str(value) if value in MAINTENANCE_ANSWERS else None


def count_value(view: dict[str, Any]) -> int | None:
    """A whole number of detections (0 or more, commas allowed), or None."""
    text = text_value(view, COUNT_BLOCK).replace(",", "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    return int(text)
