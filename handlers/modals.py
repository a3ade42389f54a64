"""Modals for guided answers (pure builders and parsers of Slack view payloads)."""

from __future__ import annotations

from typing import Any

from bot.i18n import t
from handlers.ids import View, case_ref

MESSAGE_BLOCK = "message"
MAINTENANCE_BLOCK = "maintenance"
NOTES_BLOCK = "notes"
COUNT_BLOCK = "count"
MAINTENANCE_ANSWERS = ("yes", "no", "unknown")
MAX_INPUT = 2000


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:150]}


def _modal(callback: View, title: str, lang: str, meta: str, blocks: list[Any]) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback.value,
        "private_metadata": meta,
        "title": _plain(title[:24]),
        "submit": _plain(t(lang, "modal.submit")),
        "close": _plain(t(lang, "modal.cancel")),
        "blocks": blocks,
    }


def connection_modal(lang: str, case_id: int, version: int) -> dict[str, Any]:
    """Step 1: the message the console showed, and the maintenance question for the vendor."""
    options = [
        {"text": _plain(t(lang, f"modal.maintenance.{a}")), "value": a} for a in MAINTENANCE_ANSWERS
    ]
    blocks = [
        {
            "type": "input",
            "block_id": MESSAGE_BLOCK,
            "label": _plain(t(lang, "modal.connection.message")),
            "element": {
                "type": "plain_text_input",
                "action_id": "value",
                "multiline": True,
                "max_length": MAX_INPUT,
            },
        },
        {
            "type": "input",
            "block_id": MAINTENANCE_BLOCK,
            "label": _plain(t(lang, "modal.maintenance")),
            "element": {"type": "radio_buttons", "action_id": "value", "options": options},
        },
        {
            "type": "input",
            "block_id": NOTES_BLOCK,
            "optional": True,
            "label": _plain(t(lang, "modal.maintenance.notes")),
            "element": {
                "type": "plain_text_input",
                "action_id": "value",
                "multiline": True,
                "max_length": MAX_INPUT,
            },
        },
    ]
    title = t(lang, "modal.connection.title")
    return _modal(View.CONNECTION_MESSAGE, title, lang, f"{case_id}:{version}", blocks)


def count_modal(lang: str, case_id: int, version: int) -> dict[str, Any]:
    blocks = [
        {
            "type": "input",
            "block_id": COUNT_BLOCK,
            "label": _plain(t(lang, "modal.count.label")),
            "element": {"type": "plain_text_input", "action_id": "value", "max_length": 12},
        }
    ]
    title = t(lang, "modal.count.title")
    return _modal(View.DETECTION_COUNT, title, lang, f"{case_id}:{version}", blocks)


def case_of(view: dict[str, Any]) -> tuple[int, int] | None:
    """(case id, version) from a submitted view's private metadata, or None if malformed."""
    return case_ref(view.get("private_metadata", ""))


def _value(view: dict[str, Any], block: str) -> Any:
    state = view.get("state", {}).get("values", {})
    return state.get(block, {}).get("value", {})


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
