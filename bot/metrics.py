"""What the bot counts about itself (prometheus-client; exposed by the serving process)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

DELIVERIES = Counter(
    "ddi_bot_outbox_deliveries_total",
    "Messages delivered from the outbox, by kind and result",
    ["kind", "result"],  # result: sent, retry, failed, found (posted after all), superseded
)
STUCK = Counter(
    "ddi_bot_outbox_stuck_total",
    "Messages that kept failing longer than DDI_BOT_STUCK_SECONDS (reported once each)",
)
DEPTH = Gauge("ddi_bot_outbox_depth", "Messages waiting in the outbox")
