"""The engine's notifier for Slack: one root message per case, everything else in its thread."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import SlackPostFailed
from bot.notifier import Thread
from bot.presenter import SLACK, CaseView, Message, Prompt, header
from handlers.blocks import message_payload, prompt_payload


class SlackNotifier:
    style = SLACK

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def open_thread(self, view: CaseView, channel: str | None) -> Thread:
        if not channel:
            raise SlackPostFailed("no channel")
        try:
            response = await self.client.chat_postMessage(
                channel=channel, **message_payload(header(view, SLACK))
            )
        except SlackApiError as exc:
            raise SlackPostFailed(str(exc.response.get("error", "unknown_error"))) from None
        except Exception as exc:  # timeouts, resets: the case must not stay open threadless
            raise SlackPostFailed(type(exc).__name__) from None
        return Thread(str(response["channel"]), str(response["ts"]))

    async def update_header(self, view: CaseView, thread: Thread) -> None:
        await self.client.chat_update(
            channel=thread.channel, ts=thread.ts, **message_payload(header(view, SLACK))
        )

    async def post(self, view: CaseView, thread: Thread, message: Message) -> None:
        await self.client.chat_postMessage(
            channel=thread.channel, thread_ts=thread.ts, **message_payload(message)
        )

    async def ask(self, view: CaseView, thread: Thread, prompt: Prompt) -> None:
        await self.client.chat_postMessage(
            channel=thread.channel, thread_ts=thread.ts, **prompt_payload(prompt)
        )

    async def upload(
        self, view: CaseView, thread: Thread, filename: str, content: bytes, title: str
    ) -> None:
        await self.client.files_upload_v2(
            channel=thread.channel,
            thread_ts=thread.ts,
            file=content,
            filename=filename,
            title=title,
        )
