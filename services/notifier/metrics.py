"""Notifier metrics (consumer and outbox metrics come from shared/metrics.py)."""
from __future__ import annotations

from functools import lru_cache

from prometheus_client import Counter


class NotifierMetrics:
    def __init__(self) -> None:
        self.messages_sent = Counter("notifier_messages_sent_total", "Messages delivered", ["channel", "template"])
        self.send_attempts = Counter("notifier_send_attempts_total", "SMTP send attempts by outcome", ["outcome"])


@lru_cache(maxsize=1)
def notifier_metrics() -> NotifierMetrics:
    return NotifierMetrics()
