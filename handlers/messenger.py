"""The outbox's messenger for Slack: posts, updates and files through the Web API, each post
tagged with message metadata so that one whose answer was lost can be found again.

Slack's answers become ``DeliveryError``s that say whether a retry can help and whether the
message may have been posted anyway; the outbox does the retrying (the SDK's retry handlers
would retry a post blindly, and a post that was kept would appear twice)."""

from __future__ import annotations

import asyncio
import email.utils
import logging
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any, TypeVar

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.models.metadata import Metadata
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot import metrics
from bot.errors import DeliveryError
from bot.messenger import Attachment, Content, Ref
from bot.presenter import Prompt
from handlers.blocks import message_payload, prompt_payload
from handlers.style import SLACK

log = logging.getLogger(__name__)
T = TypeVar("T")
EVENT_TYPE = "ddi_bot_case"  # our messages' metadata event type
# Slack's answers that no retry can change (any other refusal is treated alike)
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


def payload(content: Content) -> dict[str, Any]:
    return prompt_payload(content) if isinstance(content, Prompt) else message_payload(content)


def metadata(ref: Ref) -> Metadata:
    """Which outbox row a message is, in Slack's message metadata (found again by it)."""
    payload = {"outbox_id": ref.outbox_id, "case_id": ref.case_id or 0}
    return Metadata(event_type=EVENT_TYPE, event_payload=payload)


# Answers after which a retry can help: Slack's own trouble (it may have done it anyway), and
# what an operator can fix while the messages wait (a token, a scope, a workspace setting).
MAYBE_DONE = frozenset({"internal_error", "fatal_error", "service_unavailable", "request_timeout"})
FIXABLE = frozenset(
    {
        "not_authed",
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "no_permission",
        "missing_scope",
        "team_access_not_granted",
        "ekm_access_denied",
        "org_login_required",
    }
)


def _retry_after(headers: Any) -> float:
    """Retry-After in seconds, whether Slack gives seconds or an HTTP date; 1 if unreadable."""
    raw = str(headers.get("Retry-After") or headers.get("retry-after") or "1").strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return 1.0
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def classify(exc: BaseException) -> DeliveryError:
    """What a failed Web API call means for the outbox: rate limits, Slack's own trouble,
    timeouts and what an operator can fix are retried; any other refusal fails the message
    (a root message: the case), so one bad message never holds up its thread for ever."""
    if isinstance(exc, SlackApiError):
        response = exc.response
        status = int(getattr(response, "status_code", None) or getattr(response, "status", 0) or 0)
        data = getattr(response, "data", None)
        code = str(data.get("error") or "") if isinstance(data, dict) else ""
        headers = getattr(response, "headers", None) or {}
        if status == 429 or code == "ratelimited":
            return DeliveryError("ratelimited", retry=True, after=_retry_after(headers))
        if status >= 500 or code in MAYBE_DONE:
            return DeliveryError(code or f"http_{status}", retry=True, uncertain=True)
        if code in FIXABLE:
            return DeliveryError(code, retry=True)
        if code in FINAL or code or status == 200:
            return DeliveryError(code or "refused", retry=False)
        return DeliveryError(f"http_{status}", retry=True, uncertain=True)
    if isinstance(exc, TimeoutError | asyncio.TimeoutError | aiohttp.ServerTimeoutError):
        return DeliveryError("timeout", retry=True, uncertain=True)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return DeliveryError("unreachable", retry=True)  # never reached Slack
    if isinstance(exc, aiohttp.ClientError | OSError):
        return DeliveryError(type(exc).__name__, retry=True, uncertain=True)
    raise exc


async def _counted(method: str, call: Awaitable[T]) -> T:
    """The call's answer, counted by method and result; a failure as a ``DeliveryError``."""
    try:
        answer = await call
    except Exception as exc:
        error = classify(exc)
        result = (
            "ratelimited" if error.code == "ratelimited" else "retry" if error.retry else "refused"
        )
        metrics.SLACK_CALLS.labels(method, result).inc()
        raise error from None
    metrics.SLACK_CALLS.labels(method, "ok").inc()
    return answer


class SlackMessenger:
    style = SLACK

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def post(self, channel: str, thread_ts: str | None, content: Content, ref: Ref) -> str:
        args: dict[str, Any] = {"thread_ts": thread_ts} if thread_ts else {}
        response = await _counted(
            "chat.postMessage",
            self.client.chat_postMessage(
                channel=channel, metadata=metadata(ref), **args, **payload(content)
            ),
        )
        return str(response["ts"])

    async def update(self, channel: str, ts: str, content: Content) -> None:
        await _counted(
            "chat.update", self.client.chat_update(channel=channel, ts=ts, **payload(content))
        )

    async def attach(self, channel: str, thread_ts: str, file: Attachment, ref: Ref) -> None:
        await _counted(
            "files.upload_v2",
            self.client.files_upload_v2(
                channel=channel,
                thread_ts=thread_ts,
                file=file.content,
                filename=file.filename,
                title=file.title,
            ),
        )

    async def find(
        self,
        channel: str,
        thread_ts: str | None,
        ref: Ref,
        since: datetime,
        filename: str | None = None,
    ) -> str | None:
        """Our message for ``ref`` among the channel's (or thread's) messages since ``since``;
        with ``filename``, the thread's message that shares a file of that name."""
        oldest = f"{since.timestamp():.6f}"
        if thread_ts:
            response = await _counted(
                "conversations.replies",
                self.client.conversations_replies(
                    channel=channel, ts=thread_ts, oldest=oldest, include_all_metadata=True,
                    limit=200,
                ),
            )  # fmt: skip
        else:
            response = await _counted(
                "conversations.history",
                self.client.conversations_history(
                    channel=channel, oldest=oldest, include_all_metadata=True, limit=200
                ),
            )
        for message in response.get("messages") or []:
            if filename is not None:
                if any(f.get("name") == filename for f in message.get("files") or []):
                    return str(message["ts"])
                continue
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
