"""Profile worker settings (env prefix AFTERCART_PROFILES_). Defaults use the local stack."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel
from pydantic_settings import BaseSettings, SettingsConfigDict


class SegmentThresholds(BaseModel):
    """Recency/frequency/monetary thresholds (domain/segments.py says what each segment means)."""
    loyal_orders: int = 3
    champion_orders: int = 5
    champion_value: Decimal = Decimal("500")  # in the customer's main currency
    at_risk_days: int = 90
    lost_days: int = 180


class ProfilesSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AFTERCART_PROFILES_", extra="ignore")

    kafka_bootstrap: str = "127.0.0.1:19092"
    # The faust app id: its consumer group and the prefix of its changelog topics. Changing it
    # starts from scratch (a new group rebuilds every profile from the retained order topics).
    app_id: str = "profiles"
    # Where faust keeps its local state (offsets of table recovery); tables live in memory and are
    # restored from their changelog topics on start.
    data_dir: Path = Path(".state/profiles")
    # Prometheus figures (and /healthz, /readyz) on this port; 0 turns the HTTP endpoint off.
    port: int = 8005
    host: str = "127.0.0.1"
    # Thresholds for every store, and per store id where a store wants its own
    # (AFTERCART_PROFILES_STORE_THRESHOLDS='{"shop-1": {"loyal_orders": 4}}').
    thresholds: SegmentThresholds = SegmentThresholds()
    store_thresholds: dict[str, SegmentThresholds] = {}
    # How long a worker that died without leaving (kill -9, a lost host) holds its partitions
    # before the group moves them to the others (Kafka's session timeout, at least 6 s).
    session_timeout_s: float = 10.0
    # The topics (EVENTS.md's names). Other names only for benchmarks and tests that must not read
    # or write the shared ones; the source topics must exist, with the same partition count.
    orders_topic: str = "orders.v1"
    customers_topic: str = "customers.v1"
    catalog_topic: str = "catalog.v1"
    profiles_topic: str = "profiles.v1"
    dlq_topic: str = "profiles.dlq"
    # faust's offset commit interval: how much a killed worker replays (replays change nothing).
    commit_interval_s: float = 1.0
