"""Settings from the environment, validated once at start."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import ConfigError
from bot.networks import Network, parse_networks
from bot.redact import redact as _redact_url
from bot.schedule import cron_every

LANGS = ("en", "ja")
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///ddi-bot.db"
SLACK_API_URL = "https://slack.com/api/"


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    inventory_path: Path | None = None  # None: the built-in simulated fleet
    lang: str = "en"
    approvers: frozenset[str] = frozenset()
    operators: frozenset[str] | None = None  # None: anyone who can see the command may run it
    two_person: bool = True  # whoever opened a case cannot approve its reboot
    approvals_required: int = 1  # distinct approvers a reboot needs
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = SLACK_API_URL
    appliance_timeout: float = 10.0
    capture_seconds: float = 5.0
    recheck_hours: float = 6.0
    reboot_poll_seconds: float = 15.0
    reboot_timeout_minutes: float = 20.0
    approval_ttl_hours: float = 4.0
    data_dir: Path = Path("ddi-bot-data")  # debug bundles and other artifacts, per case
    syslog_udp: int | None = None  # listen port for the syslog detection feed; None: off
    syslog_tcp: int | None = None
    syslog_host: str = "0.0.0.0"  # sensors send from other hosts
    syslog_tls: int | None = None  # syslog over TLS (RFC 5425), with the two files below
    syslog_cert: Path | None = None
    syslog_key: Path | None = None
    syslog_allow: tuple[Network, ...] = ()  # senders allowed; empty: any
    max_upload_mb: float = 512.0  # larger files posted in a case thread are refused
    timezone: str = "UTC"  # the sensors' console time zone (IANA name, e.g. Asia/Tokyo)
    posts_per_second: float = 1.0  # Slack messages per channel per second (short bursts)
    slack_timeout: float = 10.0  # seconds for one Slack Web API call of the outbox
    step_concurrency: int = 32  # steps running at once (driver calls, probes); more queue
    health_port: int | None = None  # Socket Mode: where /healthz and /metrics are served
    # PostgreSQL: a replica silent this long (no heartbeat) has its jobs taken over by another
    stall_seconds: float = 60.0
    # the fleet watch sweeps this often; 0: off (from the environment: 300 unless set)
    watch_seconds: int = 0
    silence_minutes: float = 120.0  # a feed without detections this long is silent
    fleet_quorum: int = 3  # appliances in one condition at once: one fleet alert
    alert_channel: str | None = None  # alerts of appliances without an inventory channel
    watch_opens_cases: bool = False  # a sensor's own alert opens its case

    @property
    def syslog_listens(self) -> bool:
        """Whether any syslog listener (UDP, TCP, TLS) is on."""
        return any(p is not None for p in (self.syslog_udp, self.syslog_tcp, self.syslog_tls))

    def __repr__(self) -> str:  # never print tokens
        return f"Settings(database_url={_redact_url(self.database_url)!r}, lang={self.lang!r})"


_SLACK_ID = re.compile(r"[UWS][A-Z0-9]+")
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]+")


def _ids(env: Mapping[str, str], name: str) -> frozenset[str]:
    """Slack user ids (``U…``, ``W…``) and user group ids (``S…``), comma-separated."""
    ids = frozenset(part.strip() for part in (env.get(name) or "").split(",") if part.strip())
    for value in sorted(ids):
        if not _SLACK_ID.fullmatch(value):
            raise ConfigError(
                f"{name}: {value!r} is not a Slack user id (U…, W…) or user group id (S…); "
                "find it in the person's or group's profile, under 'Copy member ID'"
            )
    return ids


def _switch(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("on", "true", "yes", "1"):
        return True
    if raw in ("off", "false", "no", "0"):
        return False
    raise ConfigError(f"{name} must be on or off, got {raw!r}")


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be greater than 0, got {raw!r}")
    return value


def _count(env: Mapping[str, str], name: str, default: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"{name} must be a whole number of at least 1, got {raw!r}")
    return int(raw)


def _port(env: Mapping[str, str], name: str) -> int | None:
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise ConfigError(f"{name} must be a port number from 1 to 65535, got {raw!r}")
    return int(raw)


def _watch_seconds(env: Mapping[str, str]) -> int:
    raw = (env.get("DDI_BOT_WATCH_SECONDS") or "").strip()
    if not raw:
        return 300
    if not raw.isdigit():
        raise ConfigError(f"DDI_BOT_WATCH_SECONDS must be a whole number of seconds, got {raw!r}")
    seconds = int(raw)
    if seconds and cron_every(seconds) is None:
        raise ConfigError(
            "DDI_BOT_WATCH_SECONDS must divide a minute, an hour or a day (e.g. 30, 60, 300, "
            f"900, 3600), or be 0 to turn sweeps off; got {raw!r}"
        )
    return seconds


def _quorum(env: Mapping[str, str]) -> int:
    quorum = _count(env, "DDI_BOT_FLEET_QUORUM", 3)
    if quorum < 2:
        raise ConfigError(
            "DDI_BOT_FLEET_QUORUM must be at least 2 (one sensor alone is never a fleet), "
            f"got {quorum}"
        )
    return quorum


def _channel(env: Mapping[str, str], name: str) -> str | None:
    raw = (env.get(name) or "").strip()
    if raw and not _CHANNEL_ID.fullmatch(raw):
        raise ConfigError(
            f"{name} must be a Slack channel ID such as C012AB3CD (not a #name), got {raw!r}"
        )
    return raw or None


def _timezone(env: Mapping[str, str]) -> str:
    name = (env.get("DDI_BOT_TIMEZONE") or "UTC").strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"DDI_BOT_TIMEZONE must be an IANA time zone such as Asia/Tokyo or UTC, got {name!r}"
        ) from None
    return name


def _syslog_allow(env: Mapping[str, str]) -> tuple[Network, ...]:
    raw = env.get("DDI_BOT_SYSLOG_ALLOW") or ""
    try:
        networks = parse_networks(raw)
    except ValueError as exc:
        raise ConfigError(
            f"DDI_BOT_SYSLOG_ALLOW: {exc}; give comma-separated addresses or ranges such as "
            "10.1.0.0/16, 192.0.2.7"
        ) from None
    if raw.strip() and not networks:
        raise ConfigError("DDI_BOT_SYSLOG_ALLOW is set but lists no address or range")
    return networks


def _syslog_tls(env: Mapping[str, str]) -> tuple[int | None, Path | None, Path | None]:
    port = _port(env, "DDI_BOT_SYSLOG_TLS")
    cert, key = env.get("DDI_BOT_SYSLOG_CERT") or None, env.get("DDI_BOT_SYSLOG_KEY") or None
    if port is not None and (cert is None or key is None):
        raise ConfigError(
            "DDI_BOT_SYSLOG_TLS needs DDI_BOT_SYSLOG_CERT and DDI_BOT_SYSLOG_KEY "
            "(the PEM certificate the sensors see and its private key)"
        )
    if port is None and (cert is not None or key is not None):
        raise ConfigError(
            "DDI_BOT_SYSLOG_CERT/DDI_BOT_SYSLOG_KEY are set but DDI_BOT_SYSLOG_TLS is not: "
            "set the port to listen on for syslog over TLS"
        )
    return port, Path(cert) if cert else None, Path(key) if key else None


MAX_APPROVALS = 10


def _approvals(env: Mapping[str, str], approvers: frozenset[str], two_person: bool) -> int:
    """``DDI_BOT_APPROVALS_REQUIRED``: refused when the approvers listed by id (no user
    group) are too few to ever reach it, an approver's own case included (the two-person
    rule leaves the others)."""
    name = "DDI_BOT_APPROVALS_REQUIRED"
    required = _count(env, name, 1)
    if required > MAX_APPROVALS:
        raise ConfigError(f"{name} must be at most {MAX_APPROVALS}, got {required}")
    groups = any(a.startswith("S") for a in approvers)
    needed = required + 1 if two_person else required
    if required > 1 and not groups and len(approvers) < needed:
        why = " (one more than the quorum: the two-person rule)" if two_person else ""
        raise ConfigError(
            f"{name}={required} needs at least {needed} approvers{why}, but "
            f"DDI_BOT_APPROVERS lists {len(approvers)}: add approvers (or a user group) "
            "or lower it"
        )
    return required


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    lang = env.get("DDI_BOT_LANG", "en") or "en"
    if lang not in LANGS:
        raise ConfigError(f"DDI_BOT_LANG must be one of {', '.join(LANGS)}, got {lang!r}")
    inventory = env.get("DDI_BOT_INVENTORY")
    operators = env.get("DDI_BOT_OPERATORS")
    api_url = env.get("SLACK_API_URL") or SLACK_API_URL
    syslog_tls, syslog_cert, syslog_key = _syslog_tls(env)
    approvers = _ids(env, "DDI_BOT_APPROVERS")
    two_person = _switch(env, "DDI_BOT_TWO_PERSON", True)
    return Settings(
        database_url=env.get("DDI_BOT_DATABASE_URL") or DEFAULT_DATABASE_URL,
        inventory_path=Path(inventory) if inventory else None,
        lang=lang,
        approvers=approvers,
        operators=_ids(env, "DDI_BOT_OPERATORS") if operators else None,
        two_person=two_person,
        approvals_required=_approvals(env, approvers, two_person),
        slack_bot_token=env.get("SLACK_BOT_TOKEN") or None,
        slack_signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
        slack_app_token=env.get("SLACK_APP_TOKEN") or None,
        slack_api_url=api_url if api_url.endswith("/") else api_url + "/",
        appliance_timeout=_number(env, "DDI_BOT_APPLIANCE_TIMEOUT", 10.0),
        capture_seconds=_number(env, "DDI_BOT_CAPTURE_SECONDS", 5.0),
        recheck_hours=_number(env, "DDI_BOT_RECHECK_HOURS", 6.0),
        reboot_poll_seconds=_number(env, "DDI_BOT_REBOOT_POLL_SECONDS", 15.0),
        reboot_timeout_minutes=_number(env, "DDI_BOT_REBOOT_TIMEOUT_MINUTES", 20.0),
        approval_ttl_hours=_number(env, "DDI_BOT_APPROVAL_TTL_HOURS", 4.0),
        data_dir=Path(env.get("DDI_BOT_DATA_DIR") or "ddi-bot-data"),
        syslog_udp=_port(env, "DDI_BOT_SYSLOG_UDP"),
        syslog_tcp=_port(env, "DDI_BOT_SYSLOG_TCP"),
        syslog_host=env.get("DDI_BOT_SYSLOG_HOST") or "0.0.0.0",
        syslog_tls=syslog_tls,
        syslog_cert=syslog_cert,
        syslog_key=syslog_key,
        syslog_allow=_syslog_allow(env),
        max_upload_mb=_number(env, "DDI_BOT_MAX_UPLOAD_MB", 512.0),
        timezone=_timezone(env),
        posts_per_second=_number(env, "DDI_BOT_SLACK_POSTS_PER_SECOND", 1.0),
        slack_timeout=_number(env, "DDI_BOT_SLACK_TIMEOUT", 10.0),
        step_concurrency=_count(env, "DDI_BOT_STEP_CONCURRENCY", 32),
        health_port=_port(env, "DDI_BOT_HEALTH_PORT"),
        stall_seconds=_number(env, "DDI_BOT_STALL_SECONDS", 60.0),
        watch_seconds=_watch_seconds(env),
        silence_minutes=_number(env, "DDI_BOT_SILENCE_MINUTES", 120.0),
        fleet_quorum=_quorum(env),
        alert_channel=_channel(env, "DDI_BOT_ALERT_CHANNEL"),
        watch_opens_cases=_switch(env, "DDI_BOT_WATCH_OPENS_CASES", False),
    )
