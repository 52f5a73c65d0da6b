"""Base settings every service extends (pydantic-settings; each service sets its own env prefix).

Defaults are safe for a local run: everything on 127.0.0.1, the dev stack's ports. The one secret
every service has, the bearer token of its internal API, has a built-in development value that is
refused unless the process runs in development mode (`AFTERCART_ENV=development`, which the
README's run command and the test suite set): a service deployed without its own token won't start.
"""
from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_TOKEN_PREFIX = "dev-"
MIN_TOKEN_LENGTH = 16


class InsecureSettings(ValueError):
    """A setting that is only acceptable in development mode."""


class ServingSettings(BaseSettings):
    """How shared/service/serve.py serves a service over HTTP (shared/service/http_guard.py); also
    the defaults for an app that isn't a service (tests, the benchmark's bare endpoint)."""
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    # A connection may wait this long for its next request (after opening, or after an answer).
    http_keep_alive_s: float = Field(default=5.0, gt=0)
    # A request's line and headers must arrive within this of its first byte (a slow sender's
    # connection is closed), its body within http_body_timeout_s of its head.
    http_header_timeout_s: float = Field(default=10.0, gt=0)
    http_body_timeout_s: float = Field(default=30.0, gt=0)
    # Longest request line + headers (431 beyond it); WooCommerce's deliveries carry < 2 KB.
    http_max_header_bytes: int = Field(default=32_768, ge=1_024)
    # Connections (or requests in progress) one worker process serves; beyond it new requests get
    # 503 until some finish. The idle and read deadlines above keep idle ones from filling it.
    http_limit_concurrency: int = Field(default=1_000, ge=1)
    # Connections the kernel queues for accept() per worker socket.
    http_backlog: int = Field(default=2_048, ge=1)


class ServiceSettings(ServingSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    # "development" accepts the built-in API token; anything else needs a real one.
    environment: Literal["development", "production"] = Field(
        default="production", validation_alias=AliasChoices("AFTERCART_ENV", "environment"))
    # Bearer token of the service's internal API. Each service's default is "dev-<service>-token".
    api_token: str = "dev-token"

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

    @model_validator(mode="after")
    def _refuse_dev_secrets(self) -> "ServiceSettings":
        if self.environment != "development" and (
                self.api_token.startswith(DEV_TOKEN_PREFIX) or len(self.api_token) < MIN_TOKEN_LENGTH):
            raise InsecureSettings(
                f"{type(self).__name__}: api_token is the built-in development token or shorter than"
                f" {MIN_TOKEN_LENGTH} characters; set the service's API_TOKEN (e.g. AFTERCART_INGEST_API_TOKEN)"
                " or run with AFTERCART_ENV=development on a laptop")
        return self
