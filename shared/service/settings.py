"""Base settings every service extends (pydantic-settings; each service sets its own env prefix).

Defaults are safe for a local run: everything on 127.0.0.1, the dev stack's ports.
"""
from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str = "postgresql://postgres@127.0.0.1:55432/postgres"
    db_pool_min: int = 1
    db_pool_max: int = 10
    kafka_bootstrap: str = "127.0.0.1:19092"
    log_level: str = "INFO"
    # Allocations between two young-generation garbage collections (shared/gc_tuning.py);
    # 0 keeps Python's default of 700.
    gc_young_threshold: int = 20_000
    # Consumer group (and processed-event marker name); defaults to the service's name.
    consumer_group: str | None = None
    # Where a brand-new consumer group starts: "earliest" replays the topics (the safe default).
    consumer_offset_reset: str = "earliest"
    # Failure policy of the shared consumer loop.
    consumer_max_attempts: int = 5
    consumer_backoff_base_s: float = 0.2
    consumer_backoff_max_s: float = 5.0
    # Reconnect policy for PostgreSQL/Kafka at start-up and after loss.
    reconnect_backoff_max_s: float = 10.0
    # Outbox relay.
    relay_batch_size: int = 500
    relay_idle_poll_s: float = 0.05
