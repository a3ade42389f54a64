"""Reading files posted in Slack, against the local Slack-like server: the bot token, the size
limit while streaming, and what Slack answers to a client it does not trust."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from conftest import CHANNEL, _serve
from fakeslack import FakeSlack

from bot.errors import UploadRefused
from bot.settings import SLACK_API_URL
from handlers.app import make_client
from handlers.slack_files import SlackFiles, token_may_go_to


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    fake.url, runner = await _serve(fake.app())
    yield fake
    await runner.cleanup()


def _files(slack: FakeSlack, token: str = "xoxb-test-token") -> SlackFiles:
    return SlackFiles(make_client(token, f"{slack.url}/api/"))


async def test_a_file_is_found_in_its_thread_and_streamed_with_its_digest(
    slack: FakeSlack, tmp_path: Path
) -> None:
    content = b"x" * 300_000
    file_id = slack.add_file("export.csv", content, channel=CHANNEL, thread_ts="1.2", user="U1")
    files = _files(slack)
    shared = await files.info(file_id)
    assert (shared.name, shared.size, shared.user, shared.threads) == (
        "export.csv",
        300_000,
        "U1",
        ((CHANNEL, "1.2"),),
    )
    got = await files.download(file_id, tmp_path / "export.csv", limit=1_000_000)
    assert got.size == 300_000 and got.sha256 == hashlib.sha256(content).hexdigest()
    assert got.path.read_bytes() == content


async def test_a_file_larger_than_its_size_claims_is_cut_off_and_nothing_is_left(
    slack: FakeSlack, tmp_path: Path
) -> None:
    file_id = slack.add_file(
        "lies.zip", b"y" * 2_000_000, channel=CHANNEL, thread_ts="1.2", user="U1", size=10
    )
    with pytest.raises(UploadRefused) as caught:
        await _files(slack).download(file_id, tmp_path / "lies.zip", limit=1_000_000)
    assert caught.value.params["reason"] == "too_large"
    assert await asyncio.to_thread(os.listdir, tmp_path) == []


async def test_slacks_login_page_and_missing_files_are_clear_refusals(
    slack: FakeSlack, tmp_path: Path
) -> None:
    file_id = slack.add_file("a.csv", b"data", channel=CHANNEL, thread_ts="1.2", user="U1")
    with pytest.raises(UploadRefused, match="files:read"):
        await _files(slack, token="xoxb-other").download(file_id, tmp_path / "a.csv", 1000)
    with pytest.raises(UploadRefused, match="file_not_found"):
        await _files(slack).info("F404")
    assert await asyncio.to_thread(os.listdir, tmp_path) == []


async def test_the_token_never_goes_to_a_host_that_is_not_slack(
    slack: FakeSlack, tmp_path: Path
) -> None:
    file_id = slack.add_file("a.csv", b"data", channel=CHANNEL, thread_ts="1.2", user="U1")
    slack.files[file_id][0]["url_private_download"] = "http://127.0.0.2:9/steal"
    with pytest.raises(UploadRefused) as caught:
        await _files(slack).download(file_id, tmp_path / "a.csv", 1000)
    assert caught.value.params["reason"] == "host"
    assert token_may_go_to("https://files.slack.com/files-pri/T1-F1/a.csv", SLACK_API_URL)
    assert not token_may_go_to("http://files.slack.com/files-pri/T1-F1/a.csv", SLACK_API_URL)
    assert not token_may_go_to("https://files.slack.com.evil.example/a", SLACK_API_URL)
    assert not token_may_go_to("https://docs.google.com/a", SLACK_API_URL)


async def test_links_to_other_services_are_not_files(slack: FakeSlack) -> None:
    file_id = slack.add_file("doc", b"", channel=CHANNEL, thread_ts="1.2", user="U1")
    slack.files[file_id][0].update(is_external=True, mode="external")
    with pytest.raises(UploadRefused, match="link to another service"):
        await _files(slack).info(file_id)
