"""Ingest settings (env prefix AFTERCART_INGEST_). Defaults fit the local dev stack."""
from __future__ import annotations

import base64
import binascii

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from shared.service.settings import InsecureSettings, ServiceSettings

# The built-in key that encrypts store secrets on a laptop; refused unless AFTERCART_ENV=development.
DEV_SECRETS_KEY = base64.urlsafe_b64encode(b"aftercart-dev-only-secrets-key!!").decode()


class IngestSettings(ServiceSettings):
    # hide_input_in_errors: a refused setting must not print the secrets it came with.
    model_config = SettingsConfigDict(env_prefix="AFTERCART_INGEST_", extra="ignore", hide_input_in_errors=True)

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
    # Store lookups are cached this long (a rotated secret is seen by other instances within it),
    # for at most store_cache_max stores per process (least recently used ones go first). A source
    # URL no store has is remembered for at most store_cache_misses URLs (of ≤ 2,048 characters).
    store_cache_ttl_s: float = Field(default=5.0, ge=0)
    store_cache_max: int = Field(default=10_000, ge=1)
    store_cache_misses: int = Field(default=1_024, ge=0)
    # Fernet keys (comma-separated, newest first) that encrypt webhook secrets and REST credentials
    # at rest: the first encrypts, every one decrypts. Make one with
    # `python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`;
    # README "Configuration" has the rotation procedure.
    secrets_keys: SecretStr = SecretStr(DEV_SECRETS_KEY)
    # How often rows under an older key are re-encrypted with the first one, and expired previous
    # webhook secrets erased (also at every start).
    secrets_sweep_interval_s: float = Field(default=3_600.0, gt=0)
    # Default overlap during which the previous webhook secret is still accepted after a rotation.
    secret_overlap_s: int = 86_400
    # What one delivery's events may be (domain/bounds.py); over a limit the delivery gets a 413 and
    # nothing is stored. An event's JSON: at most the producer's 1 MiB request limit less room for
    # key, headers and framing — lower it if a topic's max.message.bytes is lower. Lines: each costs
    # every event of its order ≥ ≈ 98 bytes, so more than ≈ 10,000 could never fit.
    max_event_bytes: int = Field(default=1_000_000, ge=10_000, le=1_000_000)
    max_line_items: int = Field(default=10_000, ge=1)
    max_events_per_delivery: int = Field(default=500, ge=1)
    # A webhook's refund carries no lines: the order's events are held while ingest fetches them
    # from the store's REST API (refund_details.py), every refund_details_poll_s, for at most
    # refund_details_wait_s — then they are published without the lines they still lack.
    refund_details_wait_s: float = Field(default=300.0, ge=0)
    refund_details_poll_s: float = Field(default=2.0, gt=0)
    # Raw delivery bodies (personal data) are kept this many days, then dropped — their SHA-256 and
    # outcome stay (retention.py); the sweep runs at start and every retention_sweep_interval_s.
    # 0 keeps none past the next sweep. An erased customer's go at once, whatever this says.
    delivery_body_retention_days: float = Field(default=30.0, ge=0)
    retention_sweep_interval_s: float = Field(default=3_600.0, gt=0)
    # Scheduled reconciliation against each store's REST API; 0 disables the schedule.
    reconcile_interval_s: float = 900.0
    # How far back the first reconcile of a store reaches (a new store imports its history).
    reconcile_initial_days: int = 30

    @property
    def secrets_key_list(self) -> list[str]:
        return [k.strip() for k in self.secrets_keys.get_secret_value().split(",") if k.strip()]

    @model_validator(mode="after")
    def _check_secrets_keys(self) -> "IngestSettings":
        keys = self.secrets_key_list
        if not keys:
            raise ValueError("secrets_keys: at least one Fernet key is required")
        for i, key in enumerate(keys):
            try:
                valid = len(base64.urlsafe_b64decode(key.encode())) == 32
            except (binascii.Error, ValueError):
                valid = False
            if not valid:  # never echo the value: it is a secret
                raise ValueError(f"secrets_keys: key #{i + 1} is not a Fernet key (32 url-safe base64-encoded bytes)")
        if self.environment != "development" and DEV_SECRETS_KEY in keys:
            raise InsecureSettings(
                "IngestSettings: secrets_keys holds the built-in development key; set AFTERCART_INGEST_SECRETS_KEYS"
                " to a key of your own or run with AFTERCART_ENV=development on a laptop")
        return self
