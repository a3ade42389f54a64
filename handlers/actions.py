"""Decision buttons: ack at once, decide exactly once, show who decided."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.engine import Engine
from bot.errors import DdiBotError
from bot.presenter import SLACK, decided, error_message
from bot.runbook import Choice
from handlers.blocks import message_payload
from handlers.ids import DECIDE_PATTERN, DECIDE_PREFIX, case_ref

log = logging.getLogger(__name__)


def parse_decision(action: dict[str, Any]) -> tuple[int, int, Choice] | None:
    """(case id, case version, choice) from a button, or None if it is malformed."""
    action_id = str(action.get("action_id", ""))
    if not DECIDE_PATTERN.match(action_id):
        return None
    try:
        choice = Choice(action_id.removeprefix(DECIDE_PREFIX))
    except ValueError:
        return None
    ref = case_ref(action.get("value", ""))
    return None if ref is None else (*ref, choice)


def register(app: AsyncApp, engine: Engine) -> None:
    @app.action(DECIDE_PATTERN)
    async def on_decision(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        engine.tasks.spawn(_decide(engine, body, action, client), "decision")


async def _decide(
    engine: Engine, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
) -> None:
    lang = engine.config.lang
    user = str(body.get("user", {}).get("id", ""))
    channel = str(body.get("channel", {}).get("id") or body.get("container", {}).get("channel_id"))
    message = body.get("message") or {}
    message_ts = str(message.get("ts") or body.get("container", {}).get("message_ts", ""))
    thread_ts = message.get("thread_ts")
    parsed = parse_decision(action)
    if parsed is None:
        log.warning("ignoring malformed decision payload from %s", user)
        return
    case_id, version, choice = parsed
    try:
        result = await engine.decide(case_id, version, choice, user)
    except Exception as exc:  # DdiBotError, or a surprise: the person still gets an answer
        if not isinstance(exc, DdiBotError):
            log.exception("decision on case %s failed", case_id)
        text = error_message(lang, exc, SLACK)
        kwargs: dict[str, Any] = {"thread_ts": thread_ts} if thread_ts else {}
        await client.chat_postEphemeral(channel=channel, user=user, text=text, **kwargs)
        return
    # The question as it was asked: the view before the decision moved the case on.
    if result.point is None:
        return  # a stop without a question: nothing to mark as decided
    shown = decided(result.before, result.point, choice, user, datetime.now(UTC), SLACK)
    await client.chat_update(channel=channel, ts=message_ts, **message_payload(shown))
