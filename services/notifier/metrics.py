"""Notifier metrics (consumer and outbox metrics come from shared/metrics.py). Labels are flows,
channels and outcomes — never ids or addresses.

    notifier_messages_total{outcome, flow, channel}   sent | failed | suppressed | deferred | cancelled
    notifier_send_latency_seconds{channel}             cause event's time → the channel accepted it
    notifier_queue_depth / notifier_queue_oldest_due_age_seconds   pending messages due now (at scrape)
    notifier_template_failures_total{flow}             a message that could not be rendered (alert on it)
"""
from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from prometheus_client import Counter, Gauge, Histogram

if TYPE_CHECKING:
    from services.notifier.domain.delivery import StoredMessage

# From tens of milliseconds (an order email at once) to hours (a deferred or scheduled message).
LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 6 * 3600, 86400)


class NotifierMetrics:
    def __init__(self) -> None:
        self.messages_sent = Counter("notifier_messages_sent_total", "Messages delivered", ["channel", "template"])
        self.send_attempts = Counter("notifier_send_attempts_total", "Send attempts by outcome", ["outcome"])
        self.messages = Counter("notifier_messages_total", "Messages by outcome (sent, failed, suppressed,"
                                " deferred, cancelled), flow and channel", ["outcome", "flow", "channel"])
        self.latency = Histogram("notifier_send_latency_seconds", "From the cause event's time to the channel's"
                                 " acceptance (SMTP 250, webhook 2xx)", ["channel"], buckets=LATENCY_BUCKETS)
        # ntf-consent: entries the suppression list gained (unsubscribed, hard_bounce, invalid_address,
        # erased); the messages they then stop are counted above as outcome="suppressed".
        self.suppressions_added = Counter("notifier_suppressions_added_total", "Addresses put on the"
                                          " suppression list, by reason", ["reason"])
        self.template_failures = Counter("notifier_template_failures_total", "Messages that could not be rendered"
                                         " (failed with the reason; other messages go on)", ["flow"])
        # Measured at scrape time (QueueGauges.refresh), one database's queue: the same figure in
        # every worker, hence "mostrecent".
        self.queue_depth = Gauge("notifier_queue_depth", "Pending messages due now",
                                 multiprocess_mode="mostrecent")
        self.oldest_due_age = Gauge("notifier_queue_oldest_due_age_seconds", "How long the oldest pending"
                                    " message has been due (0 when none is)", multiprocess_mode="mostrecent")

    def outcome(self, outcome: str, message: StoredMessage) -> Counter:
        flow = getattr(message, "flow", "") or message.template
        return self.messages.labels(outcome, flow, message.channel)


@lru_cache(maxsize=1)
def notifier_metrics() -> NotifierMetrics:
    return NotifierMetrics()
