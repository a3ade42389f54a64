"""Decision buttons: ack at once, decide exactly once, show who decided."""

from __future__ import annotations

import functools
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.engine import Engine
from bot.runbook import Choice
from handlers.ack import record_then_ack
from handlers.ids import DECIDE_PATTERN, DECIDE_PREFIX, decision_ref
from handlers.languages import Languages
from handlers.replies import tell, where_clicked

log = logging.getLogger(__name__)


def parse_decision(action: dict[str, Any]) -> tuple[int, int, Choice, str | None] | None:
    """(case id, case version, choice, evidence digest) from a button, or None if it is
    malformed."""
    action_id = str(action.get("action_id", ""))
    if not DECIDE_PATTERN.match(action_id):
        return None
    try:
        choice = Choice(action_id.removeprefix(DECIDE_PREFIX))
    except ValueError:
        return None
    ref = decision_ref(action.get("value", ""))
    return None if ref is None else (ref[0], ref[1], choice, ref[2])


def register(app: AsyncApp, engine: Engine, languages: Languages) -> None:
    @app.action(DECIDE_PATTERN)
    async def on_decision(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        user = str(body.get("user", {}).get("id", ""))
        message = body.get("message") or {}
        message_ts = str(message.get("ts") or body.get("container", {}).get("message_ts", ""))
        parsed = parse_decision(action)
        if parsed is None:
            await ack()
            log.warning("ignoring malformed decision payload from %s", user)
            return
        case_id, version, choice, evidence = parsed

        # recorded before Slack hears back (a crash just after cannot lose it); the question
        # is shown as decided through the outbox, with the decision
        decision = engine.decide(
            case_id, version, choice, user, clicked=message_ts or None, evidence=evidence
        )
        told = functools.partial(tell, languages, client, user, where_clicked(body))
        await record_then_ack(
            ack, engine.tasks, decision, told, f"decision-{case_id}", engine.foreground
        )
