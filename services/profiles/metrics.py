"""The profile worker's Prometheus figures (small fixed label sets, never keys)."""
from __future__ import annotations

from functools import lru_cache

from prometheus_client import Counter


class ProfilesMetrics:
    def __init__(self) -> None:
        self.events = Counter("profiles_events_total", "Events consumed by outcome "
                              "(applied, unchanged = replayed or older news, ignored, dead_lettered)", ["outcome"])
        self.published = Counter("profiles_published_total", "Records published to profiles.v1", ["kind"])


@lru_cache(maxsize=1)
def profiles_metrics() -> ProfilesMetrics:
    return ProfilesMetrics()
