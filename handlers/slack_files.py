"""Files posted in Slack: looked up with ``files.info``, read from their private URL with the
bot token (Slack serves them only to an authorised client)."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import httpx
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import UploadRefused
from bot.files import Downloaded, SharedFile

CHUNK = 1024 * 1024
MAX_REMEMBERED = 1000  # download addresses kept between files.info and the download
SLACK_FILE_HOSTS = ("files.slack.com", "files.slack-gov.com")  # GovSlack too
GONE = ("file_not_found", "file_deleted")  # files.info answers after which retrying is useless


def token_may_go_to(url: str, api_base: str) -> bool:
    """The bot token goes only to Slack: files.slack.com, or the API's own host (a local
    Slack-like server in tests), over HTTPS unless the API itself is plain HTTP."""
    target, api = urlsplit(url), urlsplit(api_base)
    if target.scheme != "https" and not (target.scheme == "http" and api.scheme == "http"):
        return False
    host = (target.hostname or "").lower()
    return host in SLACK_FILE_HOSTS or (host != "" and host == (api.hostname or "").lower())


def shared_file(file: dict[str, Any]) -> SharedFile:
    """The parts of a ``files.info`` file object the bot uses; threads from its shares."""
    threads: list[tuple[str, str]] = []
    for visibility in ("public", "private"):
        for channel, shares in (file.get("shares", {}).get(visibility) or {}).items():
            for share in shares or []:
                thread_ts = share.get("thread_ts")
                if thread_ts:
                    threads.append((str(channel), str(thread_ts)))
    size = file.get("size")
    return SharedFile(
        id=str(file.get("id", "")),
        name=str(file.get("name") or file.get("title") or "file"),
        size=int(size) if isinstance(size, int) else None,
        user=str(file["user"]) if file.get("user") else None,
        threads=tuple(threads),
        mimetype=file.get("mimetype"),
    )


class SlackFiles:
    def __init__(
        self, client: AsyncWebClient, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.client = client
        self.transport = transport
        self._urls: dict[str, str] = {}

    async def info(self, file_id: str) -> SharedFile:
        try:
            response = await self.client.files_info(file=file_id)
        except SlackApiError as exc:
            error = str(exc.response.get("error", "unknown_error"))
            reason = "gone" if error in GONE else error
            raise UploadRefused(f"files.info failed: {error}", reason=reason) from None
        file = response.get("file") or {}
        if file.get("is_external") or file.get("mode") in ("external", "snippet", "post"):
            raise UploadRefused(
                "the file is a link to another service or a snippet, not a file posted in Slack",
                reason="external",
            )
        url = file.get("url_private_download") or file.get("url_private")
        if url:
            while len(self._urls) >= MAX_REMEMBERED:
                self._urls.pop(next(iter(self._urls)))
            self._urls[file_id] = str(url)
        return shared_file(file)

    async def download(self, file_id: str, dest: Path, limit: int) -> Downloaded:
        url = self._urls.pop(file_id, None)
        if url is None:
            await self.info(file_id)
            url = self._urls.pop(file_id, None)
        if url is None:
            raise UploadRefused("Slack gave no download address for the file", reason="no_url")
        if not token_may_go_to(url, self.client.base_url):
            raise UploadRefused(
                "the file's address is not on Slack; the bot token is not sent there",
                reason="host",
            )
        await asyncio.to_thread(dest.parent.mkdir, parents=True, exist_ok=True)
        part = dest.with_name(dest.name + ".part")
        headers = {"Authorization": f"Bearer {self.client.token}"}
        digest = hashlib.sha256()
        size = 0
        try:
            async with (
                httpx.AsyncClient(transport=self.transport, timeout=60.0) as http,
                http.stream("GET", url, headers=headers, follow_redirects=True) as response,
            ):
                if response.status_code != 200:
                    raise UploadRefused(
                        f"Slack answered HTTP {response.status_code} for the file",
                        reason="http",
                    )
                if "text/html" in response.headers.get("content-type", ""):
                    # Slack's login page: the token cannot read files (files:read missing?)
                    raise UploadRefused(
                        "Slack sent a web page instead of the file; check the app has files:read",
                        reason="html",
                    )
                out = await asyncio.to_thread(part.open, "wb")
                try:
                    async for chunk in response.aiter_bytes(CHUNK):
                        size += len(chunk)
                        if size > limit:
                            raise UploadRefused("too large", reason="too_large", size=size)
                        await asyncio.to_thread(_write, out, digest, chunk)
                finally:
                    await asyncio.to_thread(out.close)
        except httpx.HTTPError as exc:
            part.unlink(missing_ok=True)
            raise UploadRefused(f"download failed: {type(exc).__name__}", reason="http") from None
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        await asyncio.to_thread(part.replace, dest)
        return Downloaded(dest, size, digest.hexdigest())


def _write(out: BinaryIO, digest: Any, chunk: bytes) -> None:
    """Off the event loop: disk writes and hashing of large files."""
    digest.update(chunk)
    out.write(chunk)
