from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.settings import DEFAULT_DATABASE_URL, load_settings


def test_defaults_need_no_environment() -> None:
    s = load_settings({})
    assert s.database_url == DEFAULT_DATABASE_URL == "sqlite+aiosqlite:///ddi-bot.db"
    assert s.lang == "en" and s.inventory_path is None
    assert s.approvers == frozenset() and s.operators is None
    assert s.slack_api_url == "https://slack.com/api/"


def test_environment_overrides() -> None:
    s = load_settings(
        {
            "DDI_BOT_DATABASE_URL": "postgresql+asyncpg://bot:pw@db/ddi",
            "DDI_BOT_INVENTORY": "/etc/ddi-bot/inventory.yml",
            "DDI_BOT_LANG": "ja",
            "DDI_BOT_APPROVERS": " U1, U2 ,,",
            "DDI_BOT_OPERATORS": "U3",
            "SLACK_API_URL": "http://127.0.0.1:9/api",
            "DDI_BOT_RECHECK_HOURS": "0.5",
            "DDI_BOT_DATA_DIR": "/var/lib/ddi-bot",
            "DDI_BOT_SLACK_POSTS_PER_SECOND": "0.5",
            "DDI_BOT_SLACK_TIMEOUT": "3",
            "DDI_BOT_STEP_CONCURRENCY": "8",
        }
    )
    assert (s.posts_per_second, s.slack_timeout, s.step_concurrency) == (0.5, 3.0, 8)
    assert s.data_dir == Path("/var/lib/ddi-bot")
    assert s.inventory_path == Path("/etc/ddi-bot/inventory.yml")
    assert s.lang == "ja" and s.approvers == {"U1", "U2"} and s.operators == {"U3"}
    assert s.slack_api_url == "http://127.0.0.1:9/api/"
    assert s.recheck_hours == 0.5


def test_secrets_never_show_in_repr() -> None:
    s = load_settings(
        {
            "SLACK_BOT_TOKEN": "xoxb-secret-token",
            "SLACK_SIGNING_SECRET": "signing-secret",
            "DDI_BOT_DATABASE_URL": "postgresql+asyncpg://bot:hunter2@db/ddi",
        }
    )
    shown = repr(s)
    assert "xoxb-secret-token" not in shown and "signing-secret" not in shown
    assert "hunter2" not in shown and "db/ddi" in shown


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DDI_BOT_LANG": "fr"}, "DDI_BOT_LANG"),
        ({"DDI_BOT_RECHECK_HOURS": "soon"}, "must be a number"),
        ({"DDI_BOT_CAPTURE_SECONDS": "-1"}, "greater than 0"),
        ({"DDI_BOT_STEP_CONCURRENCY": "0.5"}, "DDI_BOT_STEP_CONCURRENCY must be a whole number"),
        ({"DDI_BOT_SLACK_POSTS_PER_SECOND": "0"}, "DDI_BOT_SLACK_POSTS_PER_SECOND"),
    ],
)
def test_bad_values_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(env)


def test_syslog_ports_are_off_unless_set_and_uploads_default_to_512_mb() -> None:
    s = load_settings({})
    assert (s.syslog_udp, s.syslog_tcp, s.max_upload_mb) == (None, None, 512.0)
    s = load_settings(
        {"DDI_BOT_SYSLOG_UDP": "5514", "DDI_BOT_SYSLOG_TCP": "6514", "DDI_BOT_MAX_UPLOAD_MB": "50"}
    )
    assert (s.syslog_udp, s.syslog_tcp, s.max_upload_mb) == (5514, 6514, 50.0)


@pytest.mark.parametrize("value", ["0", "70000", "syslog", "-1"])
def test_a_bad_syslog_port_is_refused_by_name(value: str) -> None:
    with pytest.raises(ConfigError, match="DDI_BOT_SYSLOG_UDP must be a port number"):
        load_settings({"DDI_BOT_SYSLOG_UDP": value})


def test_the_console_time_zone_is_checked() -> None:
    assert load_settings({}).timezone == "UTC"
    assert load_settings({"DDI_BOT_TIMEZONE": "Asia/Tokyo"}).timezone == "Asia/Tokyo"
    with pytest.raises(ConfigError, match="DDI_BOT_TIMEZONE must be an IANA time zone"):
        load_settings({"DDI_BOT_TIMEZONE": "Mars/Olympus"})


def test_syslog_allowlist_and_tls_settings() -> None:
    s = load_settings({})
    assert (s.syslog_allow, s.syslog_tls, s.syslog_listens) == ((), None, False)
    s = load_settings(
        {
            "DDI_BOT_SYSLOG_ALLOW": "10.1.0.0/16, 192.0.2.7 ,2001:db8::/32",
            "DDI_BOT_SYSLOG_TLS": "6514",
            "DDI_BOT_SYSLOG_CERT": "/etc/ddi-bot/syslog.pem",
            "DDI_BOT_SYSLOG_KEY": "/etc/ddi-bot/syslog.key",
        }
    )
    assert [str(n) for n in s.syslog_allow] == ["10.1.0.0/16", "192.0.2.7/32", "2001:db8::/32"]
    assert (s.syslog_tls, s.syslog_listens) == (6514, True)
    assert s.syslog_cert is not None and s.syslog_cert.name == "syslog.pem"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DDI_BOT_SYSLOG_ALLOW": "10.1.0.0/16, sensors"}, "'sensors' is not an address or a CIDR"),
        ({"DDI_BOT_SYSLOG_ALLOW": "10.1.0.0/33"}, "DDI_BOT_SYSLOG_ALLOW: '10.1.0.0/33'"),
        ({"DDI_BOT_SYSLOG_ALLOW": " , "}, "lists no address or range"),
        ({"DDI_BOT_SYSLOG_TLS": "6514"}, "DDI_BOT_SYSLOG_TLS needs DDI_BOT_SYSLOG_CERT"),
        ({"DDI_BOT_SYSLOG_TLS": "6514", "DDI_BOT_SYSLOG_CERT": "c.pem"}, "and DDI_BOT_SYSLOG_KEY"),
        ({"DDI_BOT_SYSLOG_CERT": "c.pem"}, "but DDI_BOT_SYSLOG_TLS is not"),
        ({"DDI_BOT_SYSLOG_TLS": "tls"}, "DDI_BOT_SYSLOG_TLS must be a port number"),
    ],
)
def test_bad_syslog_allowlist_and_tls_settings_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings(env)


def test_roles_take_user_and_group_ids_and_the_two_person_rule_is_on_by_default() -> None:
    s = load_settings({"DDI_BOT_APPROVERS": "U0123ABC, S0ONCALL", "DDI_BOT_OPERATORS": "W0ENT"})
    assert s.approvers == frozenset({"U0123ABC", "S0ONCALL"})
    assert s.operators == frozenset({"W0ENT"})
    assert s.two_person is True
    assert load_settings({"DDI_BOT_TWO_PERSON": "off"}).two_person is False
    assert load_settings({"DDI_BOT_TWO_PERSON": "ON"}).two_person is True


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DDI_BOT_APPROVERS": "U0123ABC, alice"}, "DDI_BOT_APPROVERS: 'alice' is not a Slack"),
        ({"DDI_BOT_OPERATORS": "@oncall"}, "DDI_BOT_OPERATORS: '@oncall' is not a Slack"),
        ({"DDI_BOT_TWO_PERSON": "maybe"}, "DDI_BOT_TWO_PERSON must be on or off"),
    ],
)
def test_bad_roles_and_switches_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings(env)


def test_a_quorum_of_approvers_is_one_unless_set() -> None:
    assert load_settings({}).approvals_required == 1
    two = {"DDI_BOT_APPROVERS": "U1,U2,U3", "DDI_BOT_APPROVALS_REQUIRED": "2"}
    assert load_settings(two).approvals_required == 2
    alone = {"DDI_BOT_APPROVERS": "U1,U2", "DDI_BOT_APPROVALS_REQUIRED": "2"}
    assert load_settings({**alone, "DDI_BOT_TWO_PERSON": "off"}).approvals_required == 2
    # a user group may hold any number of approvers: not counted at start
    grouped = {"DDI_BOT_APPROVERS": "S0123ABCD", "DDI_BOT_APPROVALS_REQUIRED": "3"}
    assert load_settings(grouped).approvals_required == 3


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DDI_BOT_APPROVALS_REQUIRED": "0"}, "at least 1, got '0'"),
        ({"DDI_BOT_APPROVALS_REQUIRED": "two"}, "at least 1, got 'two'"),
        ({"DDI_BOT_APPROVALS_REQUIRED": "11"}, "at most 10"),
        (
            {
                "DDI_BOT_APPROVERS": "U1",
                "DDI_BOT_APPROVALS_REQUIRED": "2",
                "DDI_BOT_TWO_PERSON": "off",
            },
            "needs at least 2 approvers, but DDI_BOT_APPROVERS lists 1",
        ),
        (
            # an approver's own case could never reach 2 with the other one alone
            {"DDI_BOT_APPROVERS": "U1,U2", "DDI_BOT_APPROVALS_REQUIRED": "2"},
            "needs at least 3 approvers (one more than the quorum: the two-person rule)",
        ),
    ],
)
def test_an_impossible_quorum_is_refused_at_start(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings(env)


def test_the_fleet_watch_sweeps_every_five_minutes_unless_told() -> None:
    settings = load_settings({})
    assert settings.watch_seconds == 300 and settings.silence_minutes == 120.0
    assert settings.fleet_quorum == 3 and settings.alert_channel is None
    assert settings.watch_opens_cases is False
    told = load_settings(
        {
            "DDI_BOT_WATCH_SECONDS": "0",
            "DDI_BOT_SILENCE_MINUTES": "30",
            "DDI_BOT_FLEET_QUORUM": "5",
            "DDI_BOT_ALERT_CHANNEL": "C0ALERTS",
            "DDI_BOT_WATCH_OPENS_CASES": "on",
        }
    )
    assert (told.watch_seconds, told.silence_minutes, told.fleet_quorum) == (0, 30.0, 5)
    assert told.alert_channel == "C0ALERTS" and told.watch_opens_cases is True


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DDI_BOT_WATCH_SECONDS": "420"}, "must divide a minute, an hour or a day"),
        ({"DDI_BOT_WATCH_SECONDS": "5m"}, "whole number of seconds"),
        ({"DDI_BOT_FLEET_QUORUM": "1"}, "at least 2"),
        ({"DDI_BOT_ALERT_CHANNEL": "#ops"}, "Slack channel ID"),
        ({"DDI_BOT_SILENCE_MINUTES": "-1"}, "DDI_BOT_SILENCE_MINUTES must be greater than 0"),
    ],
)
def test_bad_watch_settings_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(env)
