"""``/ddi-check status``: the text, from the facts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.listing import PastCase
from bot.status import ApplianceStatus, FeedHealth, silent_for, status_text
from handlers.commands import parse_command_text
from handlers.style import SLACK

AT = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


def _status(**changes: object) -> ApplianceStatus:
    values: dict[str, object] = {
        "appliance": "ddi-<tokyo>",
        "site": "tokyo & co",
        "at": AT,
        "probes": None,
        "feed": FeedHealth(AT - timedelta(minutes=5), 42, 40.0),
        "open_case": None,
        "last_case": None,
        "cases_week": 0,
    }
    values.update(changes)
    return ApplianceStatus(**values)  # type: ignore[arg-type]


def test_a_feed_is_silent_only_after_the_silence_time() -> None:
    assert silent_for(None, AT) is None  # never carried anything
    assert silent_for(AT - timedelta(minutes=119), AT) is None
    quiet = silent_for(AT - timedelta(minutes=150), AT)
    assert quiet == timedelta(minutes=150)


def test_a_healthy_feed_shows_the_last_day_beside_the_usual() -> None:
    text = status_text("en", _status(), SLACK)
    assert text.startswith("*Status of `ddi-&lt;tokyo&gt;`* (at 2026-12-02 03:00 UTC):")
    assert "Site: tokyo &amp; co" in text  # outside text is escaped
    assert "Syslog: last detection 2026-12-02 02:55 UTC; 42 in the last 24 hours" in text
    assert "(usually 40.0 per day)" in text
    assert "nothing to probe" in text and "No open case." in text


def test_a_silent_feed_is_flagged_with_how_long() -> None:
    feed = FeedHealth(AT - timedelta(hours=3), 0, 40.0)
    text = status_text("en", _status(feed=feed), SLACK)
    assert "⚠️ Syslog: *silent* for 3.0 h (last detection 2026-12-02 00:00 UTC)" in text
    ja = status_text("ja", _status(feed=feed), SLACK)
    assert "*検出なし*" in ja and "3.0 時間" in ja


@pytest.mark.parametrize(
    ("feed", "expected"),
    [(None, "no `syslog_ids`"), (FeedHealth(None, 0, None), "no detection has arrived")],
)
def test_a_sensor_without_a_feed_says_why(feed: FeedHealth | None, expected: str) -> None:
    assert expected in status_text("en", _status(feed=feed), SLACK)


def test_the_last_case_and_a_busy_week_are_shown() -> None:
    last = PastCase(7, AT - timedelta(hours=2), AT - timedelta(hours=1), "resolved", None)
    text = status_text("en", _status(last_case=last, cases_week=3), SLACK)
    assert "Last closed case: #7, Resolved (2026-12-02 02:00 UTC)." in text
    assert "3 cases for this sensor in the last 7 days." in text
    assert "7 days" not in status_text("en", _status(cases_week=1), SLACK)


def test_status_is_a_command_word() -> None:
    assert parse_command_text("status ddi-tokyo-1") == ("status", "ddi-tokyo-1")
    assert parse_command_text("status") == ("check", "status")  # an appliance named so
