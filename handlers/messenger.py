"""The outbox's messenger for Slack: posts, updates and files through the Web API, each post
tagged with message metadata so that one whose answer was lost can be found again.

Slack's answers become ``DeliveryError``s that say whether a retry can help and whether the
message may have been posted anyway; the outbox does the retrying (the SDK's retry handlers
would retry a post blindly, and a post that was kept would appear twice)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.models.metadata import Metadata
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.errors import DeliveryError
from bot.messenger import Attachment, Content, Ref
from bot.presenter import Prompt
from handlers.blocks import message_payload, prompt_payload
from handlers.style import SLACK

log = logging.getLogger(__name__)
EVENT_TYPE = "ddi_bot_case"  # our messages' metadata event type
# Slack's answers that no retry can change: the message fails (a root message: the case)
FINAL = frozenset(
    {
        "not_in_channel",
        "channel_not_found",
        "is_archived",
        "restricted_action",
        "restricted_action_read_only_channel",
        "restricted_action_thread_only_channel",
        "restricted_action_non_threadable_channel",
        "cannot_reply_to_message",
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
        "invalid_blocks",
        "invalid_blocks_format",
        "invalid_metadata_format",
        "invalid_metadata_schema",
        "msg_too_long",
        "no_text",
        "too_many_attachments",
        "thread_reply_not_supported",
        "duplicate_channel_not_found",
        "invalid_thread_ts",
    }
)
# Slack says it may have done it anyway (documented for internal_error and fatal_error)
MAYBE_DONE = frozenset({"internal_error", "fatal_error", "service_unavailable", "request_timeout"})


def payload(content: Content) -> dict[str, Any]:
    return prompt_payload(content) if isinstance(content, Prompt) else message_payload(content)


def metadata(ref: Ref) -> Metadata:
    """Which outbox row a message is, in Slack's message metadata (found again by it)."""
    payload = {"outbox_id": ref.outbox_id, "case_id": ref.case_id or 0}
    return Metadata(event_type=EVENT_TYPE, event_payload=payload)


def classify(exc: BaseException) -> DeliveryError:
    """What a failed Web API call means for the outbox."""
    if isinstance(exc, SlackApiError):
        response = exc.response
        status = int(getattr(response, "status_code", None) or getattr(response, "status", 0) or 0)
        code = ""
        if hasattr(response, "get"):
            code = str(response.get("error") or "")
        headers = getattr(response, "headers", None) or {}
        if status == 429 or code == "ratelimited":
            after = float(headers.get("Retry-After", headers.get("retry-after", 1)) or 1)
            return DeliveryError("ratelimited", retry=True, after=after)
        if code in FINAL:
            return DeliveryError(code, retry=False)
        if status >= 500 or code in MAYBE_DONE:
            return DeliveryError(code or f"http_{status}", retry=True, uncertain=True)
        # anything else (an expired token, a missing scope): an operator can fix it; keep
        # the message until then
        return DeliveryError(code or f"http_{status}", retry=True)
    if isinstance(exc, TimeoutError | asyncio.TimeoutError | aiohttp.ServerTimeoutError):
        return DeliveryError("timeout", retry=True, uncertain=True)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return DeliveryError("unreachable", retry=True)  # never reached Slack
    if isinstance(exc, aiohttp.ClientError | OSError):
        return DeliveryError(type(exc).__name__, retry=True, uncertain=True)
    raise exc


class SlackMessenger:
    style = SLACK

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def post(self, channel: str, thread_ts: str | None, content: Content, ref: Ref) -> str:
        args: dict[str, Any] = {"thread_ts": thread_ts} if thread_ts else {}
        try:
            response = await self.client.chat_postMessage(
                channel=channel, metadata=metadata(ref), **args, **payload(content)
            )
        except Exception as exc:
            raise classify(exc) from None
        return str(response["ts"])

    async def update(self, channel: str, ts: str, content: Content) -> None:
        try:
            await self.client.chat_update(channel=channel, ts=ts, **payload(content))
        except Exception as exc:
            raise classify(exc) from None

    async def attach(self, channel: str, thread_ts: str, file: Attachment, ref: Ref) -> None:
        try:
            await self.client.files_upload_v2(
                channel=channel,
                thread_ts=thread_ts,
                file=file.content,
                filename=file.filename,
                title=file.title,
            )
        except Exception as exc:
            raise classify(exc) from None

    async def find(
        self, channel: str, thread_ts: str | None, ref: Ref, since: datetime
    ) -> str | None:
        """Our message for ``ref`` among the channel's (or thread's) messages since ``since``."""
        oldest = f"{since.timestamp():.6f}"
        try:
            if thread_ts:
                response = await self.client.conversations_replies(
                    channel=channel, ts=thread_ts, oldest=oldest, include_all_metadata=True,
                    limit=200,
                )  # fmt: skip
            else:
                response = await self.client.conversations_history(
                    channel=channel, oldest=oldest, include_all_metadata=True, limit=200
                )
        except Exception as exc:
            raise classify(exc) from None
        for message in response.get("messages") or []:
            meta = message.get("metadata") or {}
            found = (meta.get("event_payload") or {}).get("outbox_id")
            if meta.get("event_type") == EVENT_TYPE and found == ref.outbox_id:
                return str(message["ts"])
        return None

    async def reply(self, url: str, text: str) -> None:
        webhook = AsyncWebhookClient(url, timeout=self.client.timeout)
        try:
            response = await webhook.send(text=text, response_type="ephemeral")
        except Exception as exc:
            raise classify(exc) from None
        if response.status_code == 404 or response.status_code == 410:
            raise DeliveryError("reply_expired", retry=False)  # the 30 minutes are over
        if response.status_code >= 400:
            raise DeliveryError(f"http_{response.status_code}", retry=response.status_code >= 500)
