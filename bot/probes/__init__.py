"""The bot's own network probes of a sensor, whatever its driver (DESIGN.md §3).

DNS, TCP and TLS to the console (with its certificate, pin and trust) and to the TMSP servers
the sensor must reach; ``render`` turns the report into Slack lines.
"""

from bot.probes.model import (
    CertInfo,
    ConsoleReport,
    Endpoint,
    Failure,
    PinStatus,
    ProbeKind,
    ProbeReport,
    ProbeResult,
    ServerReport,
    Trust,
    Verification,
    endpoint_or_none,
    normalise_fingerprint,
    parse_endpoint,
)
from bot.probes.render import render_console, render_report, render_server
from bot.probes.run import (
    DEFAULT_TIMEOUT,
    PLAIN_PORTS,
    console_answers,
    probe_all,
    probe_console,
    probe_server,
    probe_tmsp,
)
from bot.probes.steps import Resolver, system_resolver

__all__ = [
    "DEFAULT_TIMEOUT",
    "PLAIN_PORTS",
    "CertInfo",
    "ConsoleReport",
    "Endpoint",
    "Failure",
    "PinStatus",
    "ProbeKind",
    "ProbeReport",
    "ProbeResult",
    "Resolver",
    "ServerReport",
    "Trust",
    "Verification",
    "console_answers",
    "endpoint_or_none",
    "normalise_fingerprint",
    "parse_endpoint",
    "probe_all",
    "probe_console",
    "probe_server",
    "probe_tmsp",
    "render_console",
    "render_report",
    "render_server",
    "system_resolver",
]
