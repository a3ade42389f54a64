"""A local server that answers like the Slack Web API and records every call.

Also sends requests to the app exactly as Slack does: form bodies signed with HMAC-SHA256
of ``v0:{timestamp}:{body}``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    result: dict[str, Any]
    at: float = field(default_factory=time.monotonic)  # when Slack received it

    @property
    def ts(self) -> str:
        return str(self.result["ts"])


@dataclass
class FakeSlack:
    calls: list[Call] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)  # posts to response_url
    # method -> queued failures: an error code (HTTP 200, ok false), 429 (Retry-After 1),
    # 500 (a JSON error), 503 (an HTML page); the call is not carried out
    fail: dict[str, list[str | int]] = field(default_factory=dict)
    # method -> queued delays: the call IS carried out, but answered that many seconds late
    slow: dict[str, list[float]] = field(default_factory=dict)
    url: str = ""
    envelopes: list[dict[str, Any]] = field(default_factory=list)  # to send over Socket Mode
    acks: list[dict[str, Any]] = field(default_factory=list)  # what the app answered
    uploads: dict[str, bytes] = field(default_factory=dict)  # file id -> uploaded bytes
    lose_questions: int = 0  # fail this many postMessage calls that carry buttons
    files: dict[str, tuple[dict[str, Any], bytes]] = field(default_factory=dict)  # id -> info
    downloads: list[str] = field(default_factory=list)  # file ids the app downloaded
    token: str = "xoxb-test-token"
    failures: list[tuple[str, str | int]] = field(default_factory=list)  # what was injected
    messages: list[dict[str, Any]] = field(default_factory=list)  # every message posted
    locales: dict[str, str] = field(default_factory=dict)  # user -> locale users.info says
    usergroups: dict[str, list[str]] = field(default_factory=dict)  # S… -> its members
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/respond/{id}", self._respond)
        app.router.add_get("/socket", self._socket)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/files-pri/{file_id}/{name}", self._download)
        return app

    def add_file(
        self,
        name: str,
        content: bytes,
        *,
        channel: str,
        thread_ts: str | None,
        user: str,
        size: int | None = None,
    ) -> str:
        """A file a person posted; ``thread_ts`` None: posted in the channel, not a thread."""
        file_id = f"F{next(self._ts):08d}"
        share: dict[str, Any] = {"ts": f"{1_800_000_000 + next(self._ts)}.000300"}
        if thread_ts:
            share["thread_ts"] = thread_ts
        info = {
            "id": file_id,
            "name": name,
            "title": name,
            "user": user,
            "size": len(content) if size is None else size,
            "mimetype": "application/octet-stream",
            "url_private_download": f"{self.url}/files-pri/{file_id}/{name}",
            "shares": {"public": {channel: [share]}},
        }
        self.files[file_id] = (info, content)
        return file_id

    async def _download(self, request: web.Request) -> web.StreamResponse:
        """Like Slack: the file to a client with the bot token, a login page to anyone else."""
        file_id = request.match_info["file_id"]
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.Response(text="<html>Sign in</html>", content_type="text/html")
        if file_id not in self.files:
            return web.Response(status=404)
        self.downloads.append(file_id)
        return web.Response(body=self.files[file_id][1], content_type="application/octet-stream")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode: say hello, deliver queued envelopes, record the app's acks."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"type": "hello", "num_connections": 1})
        for envelope in self.envelopes:
            await ws.send_json(envelope)
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                self.acks.append(json.loads(message.data))
        return ws

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.method == "GET":
            args: dict[str, Any] = dict(request.query)
        elif request.content_type == "application/json":
            args = await request.json()
        else:
            args = dict(await request.post())
        args = {**dict(request.query), **args}  # some methods send their arguments as a query
        for key in ("blocks", "attachments", "files", "view"):
            if isinstance(args.get(key), str):
                args[key] = json.loads(args[key])
        if (
            method == "chat.postMessage"
            and self.lose_questions
            and any(b.get("type") == "actions" for b in args.get("blocks") or [])
        ):
            self.lose_questions -= 1
            return web.json_response({"ok": False, "error": "internal_error"})
        queued = self.fail.get(method)
        if queued:
            failure = queued.pop(0)
            self.failures.append((method, failure))
            if failure == 429:
                return web.json_response(
                    {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "1"}
                )
            if failure == 500:
                return web.json_response({"ok": False, "error": "internal_error"}, status=500)
            if failure == 503:
                return web.Response(
                    text="<html>Service Unavailable</html>", status=503, content_type="text/html"
                )
            return web.json_response({"ok": False, "error": failure})
        result = self._answer(method, args)
        self.calls.append(Call(method, args, result))
        delays = self.slow.get(method)
        if delays:  # kept, but the answer comes after the client gave up waiting
            await asyncio.sleep(delays.pop(0))
        return web.json_response(result)

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel", "")
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts)}"
            return {"ok": True, "file_id": file_id, "upload_url": f"{self.url}/upload/{file_id}"}
        if method == "files.completeUploadExternal":
            return {
                "ok": True,
                "files": [{"id": f["id"], "title": f["title"]} for f in args["files"]],
            }
        if method == "files.info":
            found = self.files.get(str(args.get("file", "")))
            if found is None:
                return {"ok": False, "error": "file_not_found"}
            return {"ok": True, "file": found[0]}
        if method == "views.open":
            return {"ok": True, "view": {"id": f"V{next(self._ts)}", **args.get("view", {})}}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.url.replace("http", "ws", 1) + "/socket"}
        if method == "users.info":
            user = str(args.get("user", ""))
            found: dict[str, Any] = {"id": user}
            if user in self.locales and str(args.get("include_locale")).lower() in ("1", "true"):
                found["locale"] = self.locales[user]
            return {"ok": True, "user": found}
        if method == "usergroups.users.list":
            group = str(args.get("usergroup", ""))
            if group not in self.usergroups:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": list(self.usergroups[group])}
        if method == "auth.test":
            return {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1", "user": "ddi"}
        if method == "chat.postMessage":
            ts = f"{1_800_000_000 + next(self._ts)}.000100"
            message = {"ts": ts, **args}
            if isinstance(message.get("metadata"), str):
                message["metadata"] = json.loads(message["metadata"])
            self.messages.append(message)
            return {"ok": True, "channel": channel, "ts": ts, "message": message}
        if method in ("conversations.history", "conversations.replies"):
            return {"ok": True, "messages": self._conversation(method, args), "has_more": False}
        if method == "chat.update":
            return {"ok": True, "channel": channel, "ts": args.get("ts")}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"{1_800_000_000 + next(self._ts)}.000200"}
        if method == "chat.getPermalink":
            ts = str(args.get("message_ts", "")).replace(".", "")
            return {"ok": True, "permalink": f"https://example.slack.com/archives/{channel}/p{ts}"}
        return {"ok": True}

    def _conversation(self, method: str, args: dict[str, Any]) -> list[dict[str, Any]]:
        """A channel's root messages, or a thread, newest first, as Slack lists them."""
        channel, oldest = args.get("channel"), float(args.get("oldest") or 0)
        root = args.get("ts")
        found = []
        for message in self.messages:
            if message.get("channel") != channel or float(message["ts"]) < oldest:
                continue
            if method == "conversations.history" and message.get("thread_ts"):
                continue
            if method == "conversations.replies" and root not in (
                message.get("thread_ts"),
                message["ts"],
            ):
                continue
            shown = {k: v for k, v in message.items() if k != "metadata"}
            if str(args.get("include_all_metadata")).lower() in ("1", "true"):
                shown["metadata"] = message.get("metadata")
            found.append(shown)
        return found[::-1]

    async def _upload(self, request: web.Request) -> web.Response:
        self.uploads[request.match_info["file_id"]] = await request.read()
        return web.Response(text="OK")

    async def _respond(self, request: web.Request) -> web.Response:
        self.responses.append(await request.json())
        return web.json_response({"ok": True})

    # --- reading what the bot did ---------------------------------------------------------

    def by(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def posts(self) -> list[Call]:
        return self.by("chat.postMessage")

    def prompts(self) -> list[Call]:
        return [
            c for c in self.posts() if any(b.get("type") == "actions" for b in c.args["blocks"])
        ]


def sign(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": "application/x-www-form-urlencoded",
    }


def command_body(text: str, user: str, channel: str, response_url: str) -> str:
    return urllib.parse.urlencode(
        {
            "token": "legacy-unused",
            "team_id": "T1",
            "team_domain": "example",
            "channel_id": channel,
            "channel_name": "ops",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/ddi-check",
            "text": text,
            "api_app_id": "A1",
            "response_url": response_url,
            "trigger_id": "1.2.3",
        }
    )


def action_body(
    action: dict[str, Any], user: str, channel: str, message_ts: str, thread_ts: str, url: str
) -> str:
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": "T1"},
        "api_app_id": "A1",
        "token": "legacy-unused",
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": False,
        },
        "trigger_id": "1.2.4",
        "team": {"id": "T1", "domain": "example"},
        "channel": {"id": channel, "name": "ops"},
        "message": {"type": "message", "ts": message_ts, "thread_ts": thread_ts, "text": ""},
        "response_url": url,
        "actions": [{**action, "type": "button", "action_ts": str(time.time())}],
    }
    return urllib.parse.urlencode({"payload": json.dumps(payload)})


def view_submission_body(view: dict[str, Any], user: str, values: dict[str, Any]) -> str:
    """A modal submitted: ``values`` maps block id -> the element's state (action id "value")."""
    payload = {
        "type": "view_submission",
        "team": {"id": "T1", "domain": "example"},
        "user": {"id": user, "username": user.lower(), "team_id": "T1"},
        "api_app_id": "A1",
        "token": "legacy-unused",
        "trigger_id": "1.2.5",
        "view": {
            **view,
            "state": {"values": {block: {"value": v} for block, v in values.items()}},
        },
    }
    return urllib.parse.urlencode({"payload": json.dumps(payload)})


def event_body(event: dict[str, Any], event_id: str) -> str:
    """An Events API callback, as Slack posts it (JSON)."""
    return json.dumps(
        {
            "token": "legacy-unused",
            "team_id": "T1",
            "api_app_id": "A1",
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [{"team_id": "T1", "user_id": "UBOT", "is_bot": True}],
        }
    )
