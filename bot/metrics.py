"""What the bot counts about itself (prometheus-client), exposed at ``GET /metrics`` by the
serving process. Counters are counted where things happen; gauges that the database knows
(open cases, outbox depth) and the syslog receiver's totals are read when scraped."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from bot.syslog.counter import SyslogStats

DELIVERIES = Counter(
    "ddi_bot_outbox_deliveries_total",
    "Messages delivered from the outbox, by kind and result",
    ["kind", "result"],  # result: sent, retry, failed, found (posted after all), superseded
)
STUCK = Counter(
    "ddi_bot_outbox_stuck_total",
    "Messages that kept failing for 10 minutes (reported once each)",
)
DEPTH = Gauge("ddi_bot_outbox_depth", "Messages waiting in the outbox")
SWEEP_SECONDS = Histogram(
    "ddi_bot_sweep_seconds", "How long a sweep of the fleet watch took",
    buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600),
)  # fmt: skip
ALERTS = Counter(
    "ddi_bot_alerts_total", "Alerts raised by the fleet watch, by condition and scope",
    ["condition", "scope"],  # scope: appliance, fleet
)  # fmt: skip
OPEN_CASES = Gauge("ddi_bot_open_cases", "Cases open now")
CASES_CLOSED = Counter("ddi_bot_cases_closed_total", "Cases closed, by outcome", ["outcome"])
DECISIONS = Counter(
    "ddi_bot_decisions_total", "Questions answered by people, by question and answer",
    ["point", "choice"],
)  # fmt: skip
STEP_SECONDS = Histogram(
    "ddi_bot_step_seconds",
    "How long the bot's runs of a runbook step took, by step and outcome",
    ["step", "outcome"],
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)
SLACK_CALLS = Counter(
    "ddi_bot_slack_calls_total",
    "Slack Web API calls of the outbox, by method and result (ok, ratelimited, retry, refused)",
    ["method", "result"],
)
CAPTURES = Counter(
    "ddi_bot_capture_analyses_total", "Capture exports analysed, by verdict", ["verdict"]
)


class SyslogTotals(Collector):
    """The syslog receiver's totals since start, by result (read when scraped)."""

    def __init__(self) -> None:
        self.stats: SyslogStats | None = None

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "ddi_bot_syslog_messages",
            "Syslog messages received, by result (counted, ignored, bad, unknown_sender, refused)",
            labels=["result"],
        )
        stats = self.stats
        if stats is not None:
            for result in ("counted", "ignored", "bad", "unknown_sender", "refused"):
                family.add_metric([result], getattr(stats, result))
        yield family


SYSLOG = SyslogTotals()
REGISTRY.register(SYSLOG)
