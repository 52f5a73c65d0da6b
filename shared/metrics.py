"""Prometheus metrics shared by every service. Names follow <service>_<thing>_total with a small
fixed label set (event type, outcome) — never ids or emails."""
from __future__ import annotations

from functools import lru_cache

from prometheus_client import Counter, Gauge, Histogram


class ConsumerMetrics:
    def __init__(self, service: str) -> None:
        self.events = Counter(f"{service}_events_consumed_total", "Events handled by the consumer loop",
                              ["type", "outcome"])
        self.retries = Counter(f"{service}_event_retries_total", "Handler retries after transient errors",
                               ["type"])
        self.dead_lettered = Counter(f"{service}_events_dead_lettered_total", "Events sent to the DLQ",
                                     ["type", "reason"])
        self.handle_seconds = Histogram(f"{service}_event_handle_seconds", "Time to handle one event",
                                        ["type"])


class RelayMetrics:
    def __init__(self, service: str) -> None:
        self.published = Counter(f"{service}_outbox_published_total", "Outbox rows published to Kafka",
                                 ["type"])
        self.depth = Gauge(f"{service}_outbox_depth", "Unpublished outbox rows")
        self.oldest_age = Gauge(f"{service}_outbox_oldest_age_seconds", "Age of the oldest unpublished row")
        self.publish_latency = Histogram(
            f"{service}_outbox_publish_latency_seconds", "From outbox write to Kafka ack",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
        self.errors = Counter(f"{service}_outbox_publish_errors_total", "Failed publish attempts")
        # Rows Kafka refused for good, and the rows held behind them (shared/db/outbox.py).
        # (`_rows`: prometheus_client reserves `<name>` for the counter `<name>_total` below.)
        self.parked = Gauge(f"{service}_outbox_parked_rows", "Outbox rows parked, waiting for a replay or a discard")
        self.parked_total = Counter(f"{service}_outbox_parked_total", "Outbox rows parked, by Kafka's error"
                                    " (or \"held\": behind a parked row of the same key and subject)", ["reason"])


class DependencyMetrics:
    def __init__(self, service: str) -> None:
        self.up = Gauge(f"{service}_dependency_up", "1 when the dependency is reachable", ["dependency"])


@lru_cache(maxsize=None)
def consumer_metrics(service: str) -> ConsumerMetrics:
    return ConsumerMetrics(service)


@lru_cache(maxsize=None)
def relay_metrics(service: str) -> RelayMetrics:
    return RelayMetrics(service)


@lru_cache(maxsize=None)
def dependency_metrics(service: str) -> DependencyMetrics:
    return DependencyMetrics(service)
