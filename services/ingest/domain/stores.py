"""A store registered with ingest: its site URL, webhook secrets (with a rotation overlap), REST
credentials, time zone and locale. adapters/stores.py keeps them in PostgreSQL."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property

from services.ingest.domain.derivation import StoreContext


@dataclass(frozen=True)
class Store:
    store_id: str
    source_url: str
    webhook_secret: str
    previous_secret: str | None
    previous_secret_until: datetime | None
    rest_url: str | None
    consumer_key: str | None
    consumer_secret: str | None
    timezone: str
    locale: str | None

    def active_secrets(self, now: datetime | None = None) -> list[str]:
        now = now or datetime.now(timezone.utc)
        secrets = [self.webhook_secret]
        if self.previous_secret and self.previous_secret_until and now < self.previous_secret_until:
            secrets.append(self.previous_secret)
        return secrets

    @cached_property
    def context(self) -> StoreContext:
        """What derivations know of the store (built once per cached Store, not per delivery)."""
        return StoreContext(store_id=self.store_id, timezone=self.timezone, locale=self.locale)

    @property
    def has_rest_access(self) -> bool:
        return bool(self.rest_url and self.consumer_key and self.consumer_secret)


def normalize_source(url: str) -> str:
    """X-WC-Webhook-Source is home_url('/') with a trailing slash; compare without case or slash noise."""
    return url.strip().lower().rstrip("/") + "/"
