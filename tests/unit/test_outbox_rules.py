"""The outbox's rules without I/O: a channel's pace in one process, backoff, and what Slack's
answers mean (the pace replicas share: tests/adapters/test_channel_pace.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.engine.pacing import LocalPace, backoff
from handlers.messenger import classify

SECOND = timedelta(seconds=1)
T0 = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


def test_one_process_paces_a_channel_a_burst_then_one_message_a_second() -> None:
    pace, now, waits = LocalPace(), T0, []
    for _ in range(5):
        wait = pace.reserve("C1", now, SECOND, 3)
        while wait > 0:
            waits.append(wait)
            now += timedelta(seconds=wait)
            wait = pace.reserve("C1", now, SECOND, 3)
        waits.append(0.0)
    assert waits == [0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0]
    now += timedelta(seconds=10)  # a quiet channel takes a burst again, never more
    assert [pace.reserve("C1", now, SECOND, 3) for _ in range(4)] == [0.0, 0.0, 0.0, 1.0]
    assert pace.reserve("C2", now, SECOND, 3) == 0.0  # each channel its own pace


def test_a_rate_limit_pauses_the_channel_in_one_process() -> None:
    pace = LocalPace()
    pace.pause("C1", T0, 30.0, SECOND, 3)
    assert pace.reserve("C1", T0, SECOND, 3) == 30.0
    assert pace.reserve("C1", T0 + 30 * SECOND, SECOND, 3) == 0.0


def test_backoff_doubles_with_jitter_up_to_a_cap() -> None:
    assert [backoff(n, jitter=lambda: 1.0) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 8.0]
    assert backoff(1, jitter=lambda: 0.0) == 0.5  # never all at once after a shared outage
    assert backoff(30, 1.0, 120.0, jitter=lambda: 1.0) == 120.0


def _api_error(status: int, body: object, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    response = AsyncSlackResponse(
        client=None,  # type: ignore[arg-type]
        http_verb="POST",
        api_url="https://slack.com/api/chat.postMessage",
        req_args={},
        data=body,  # type: ignore[arg-type]
        headers=headers or {},
        status_code=status,
    )
    return SlackApiError("failed", response)


@pytest.mark.parametrize(
    ("error", "code", "retry", "uncertain", "after"),
    [
        (_api_error(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "7"}),
         "ratelimited", True, False, 7.0),
        (_api_error(200, {"ok": False, "error": "not_in_channel"}), "not_in_channel", False,
         False, None),
        (_api_error(200, {"ok": False, "error": "internal_error"}), "internal_error", True,
         True, None),
        (_api_error(503, {"ok": False, "error": "service_unavailable"}), "service_unavailable",
         True, True, None),
        (_api_error(200, {"ok": False, "error": "invalid_auth"}), "invalid_auth", True, False,
         None),
        (_api_error(200, {"ok": False, "error": "msg_blocks_too_long"}), "msg_blocks_too_long",
         False, False, None),  # a refusal no retry changes: the message fails, not its thread
        (_api_error(503, "upstream connect error"), "http_503", True, True, None),  # text/plain
        (_api_error(429, {"ok": False, "error": "ratelimited"},
                    {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}), "ratelimited", True,
         False, 0.0),  # an HTTP date (in the past here): no crash, no wait
        (TimeoutError(), "timeout", True, True, None),
        (aiohttp.ServerDisconnectedError(), "ServerDisconnectedError", True, True, None),
    ],
)  # fmt: skip
def test_slack_answers_are_classified(
    error: BaseException, code: str, retry: bool, uncertain: bool, after: float | None
) -> None:
    found = classify(error)
    assert (found.code, found.retry, found.uncertain, found.after) == (
        code, retry, uncertain, after,
    )  # fmt: skip


def test_a_non_json_5xx_is_uncertain() -> None:
    """slack_sdk raises SlackApiError with the raw aiohttp response for an HTML 503."""

    class Raw:
        status = 503
        headers: dict[str, str] = {}  # noqa: RUF012

    found = classify(SlackApiError("Received a response in a non-JSON format", Raw()))
    assert (found.code, found.retry, found.uncertain) == ("http_503", True, True)


def test_a_bug_is_not_mistaken_for_slack_trouble() -> None:
    with pytest.raises(KeyError):
        classify(KeyError("bug"))
