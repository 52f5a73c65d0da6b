"""Ingest settings (env prefix AFTERCART_INGEST_). Defaults fit the local dev stack."""
from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.service.settings import ServiceSettings


class IngestSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AFTERCART_INGEST_", extra="ignore")

    port: int = 8001
    database_url: str = "postgresql://ingest:ingest@127.0.0.1:55432/ingest"
    # Bearer token for the internal API (/stores, /deliveries, …); refused outside development mode.
    api_token: str = "dev-ingest-token"
    # Largest webhook body accepted; WooCommerce orders are a few KB, a huge one is an attack.
    max_body_bytes: int = 1_048_576
    # Most webhook deliveries committed by one atomic write (concurrent ones share it; 1 = no sharing).
    commit_batch_max: int = 256
    # Batches in flight at once per process, each on its own connection (PostgreSQL works on one
    # while Python derives the next); batches about the same resource still go one after the other.
    # 1 by default: with two worker processes on 2 cores, a second lane per process only added
    # PostgreSQL contention (5 interleaved benchmark pairs: 32-store p50 8.2 vs 10.8 ms).
    commit_lanes: int = 1
    # Store lookups are cached this long (a rotated secret is seen by other instances within it).
    store_cache_ttl_s: float = 5.0
    # Default overlap during which the previous webhook secret is still accepted after a rotation.
    secret_overlap_s: int = 86_400
    # Scheduled reconciliation against each store's REST API; 0 disables the schedule.
    reconcile_interval_s: float = 900.0
    # How far back the first reconcile of a store reaches (a new store imports its history).
    reconcile_initial_days: int = 30
