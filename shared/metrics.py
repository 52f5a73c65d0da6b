"""Prometheus metrics shared by every service. Names follow <service>_<thing>_total with a small
fixed label set (event type, outcome) — never ids or emails.

Several worker processes (shared/service/serve.py --workers N) share their figures through
prometheus-client's multiprocess mode: counters and histograms add up by themselves; every Gauge
names its `multiprocess_mode` — "mostrecent" for a figure each worker measures of the same shared
thing (the outbox's depth in PostgreSQL), "livemin" for reachability (up only if every live worker
reaches it), "livesum" for a count each worker holds its own share of. With one worker the mode
is ignored.
"""
from __future__ import annotations

import os
from functools import lru_cache

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

__all__ = ["CONTENT_TYPE_LATEST", "render_metrics"]


def render_metrics() -> bytes:
    """The exposition a scrape gets: this process's registry, or with several workers
    (PROMETHEUS_MULTIPROC_DIR set by the supervisor) every worker's figures combined."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not path:
        return generate_latest()
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path)
    return generate_latest(registry)


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
        self.depth = Gauge(f"{service}_outbox_depth", "Unpublished outbox rows", multiprocess_mode="mostrecent")
        self.oldest_age = Gauge(f"{service}_outbox_oldest_age_seconds", "Age of the oldest unpublished row",
                                multiprocess_mode="mostrecent")
        self.publish_latency = Histogram(
            f"{service}_outbox_publish_latency_seconds", "From outbox write to Kafka ack",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
        self.errors = Counter(f"{service}_outbox_publish_errors_total", "Failed publish attempts")
        # Rows Kafka refused for good, and the rows held behind them (shared/db/outbox.py).
        # (`_rows`: prometheus_client reserves `<name>` for the counter `<name>_total` below.)
        self.parked = Gauge(f"{service}_outbox_parked_rows", "Outbox rows parked, waiting for a replay or a discard",
                            multiprocess_mode="mostrecent")
        self.parked_total = Counter(f"{service}_outbox_parked_total", "Outbox rows parked, by Kafka's error"
                                    " (or \"held\": behind a parked row of the same key and subject)", ["reason"])


class DependencyMetrics:
    def __init__(self, service: str) -> None:
        self.up = Gauge(f"{service}_dependency_up", "1 when the dependency is reachable (with several workers:"
                        " by every live one)", ["dependency"], multiprocess_mode="livemin")


@lru_cache(maxsize=None)
def consumer_metrics(service: str) -> ConsumerMetrics:
    return ConsumerMetrics(service)


@lru_cache(maxsize=None)
def relay_metrics(service: str) -> RelayMetrics:
    return RelayMetrics(service)


@lru_cache(maxsize=None)
def dependency_metrics(service: str) -> DependencyMetrics:
    return DependencyMetrics(service)
