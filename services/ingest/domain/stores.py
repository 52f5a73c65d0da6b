"""A store registered with ingest: its site URL, webhook secrets (with a rotation overlap), REST
credentials, time zone and locale. adapters/stores.py keeps them in PostgreSQL, secrets encrypted.

What registering, changing and rotating mean (README "Connecting a WooCommerce store"):
- registering a new store id stores its one webhook secret; registering an id that exists is
  refused (StoreExists: 409) and changes nothing, whatever the body — one mistaken request must not
  cut a live store off;
- changing a store (update: PATCH /stores/{id}) sets its source URL, REST access (rest_url,
  consumer_key, consumer_secret, and what to trust for a self-signed https store: rest_ca_bundle,
  rest_cert_sha256, domain/tls_trust.py), time zone or locale, and never a secret;
- rotating makes the new secret current and keeps exactly one previous secret, the one current
  until then, for the overlap (none with an overlap of 0); every earlier one is gone. A webhook
  secret changes only so.
"""
from __future__ import annotations

import hmac
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from functools import cached_property

from services.ingest.domain.derivation import StoreContext

# A webhook secret is whatever the store owner typed in WooCommerce (it accepts any): ingest takes
# any non-empty one up to MAX_SECRET characters, and warns about a weak one (secret_warnings).
MAX_SECRET = 256
STRONG_SECRET_LENGTH = 16
WEAK_SECRET = "weak_secret"

# Longest X-WC-Webhook-Source (and registered source URL) there is: home URLs are short, and a
# longer header is refused before any lookup, so nobody can make ingest remember long strings.
MAX_SOURCE_URL = 2_048


class StoreExists(Exception):
    """A registration of a store id that is already registered (nothing was changed)."""


# What update() may change (PATCH /stores/{id}); secrets change by rotation only.
UPDATABLE = ("source_url", "rest_url", "consumer_key", "consumer_secret", "timezone", "locale", "rest_ca_bundle",
             "rest_cert_sha256")
CREDENTIALS = frozenset({"consumer_key", "consumer_secret"})


@dataclass(frozen=True)
class Store:
    store_id: str
    source_url: str
    webhook_secret: str = field(repr=False)  # repr=False: a Store in a log or traceback shows no secret
    previous_secret: str | None = field(repr=False)
    previous_secret_until: datetime | None
    rest_url: str | None
    consumer_key: str | None = field(repr=False)
    consumer_secret: str | None = field(repr=False)
    timezone: str
    locale: str | None
    # What to trust for the REST API over https beyond the system's CAs (domain/tls_trust.py).
    # repr=False: not secret, but never logged.
    rest_ca_bundle: str | None = field(default=None, repr=False)
    rest_cert_sha256: str | None = field(default=None, repr=False)

    def active_secrets(self, now: datetime | None = None) -> list[str]:
        now = now or datetime.now(timezone.utc)
        secrets = [self.webhook_secret]
        if self.previous_secret and self.previous_secret_until and now < self.previous_secret_until:
            secrets.append(self.previous_secret)
        return secrets

    def has_secret(self, secret: str) -> bool:
        """Whether `secret` is the current webhook secret (constant time)."""
        return hmac.compare_digest(self.webhook_secret.encode(), secret.encode())

    @cached_property
    def context(self) -> StoreContext:
        """What derivations know of the store (built once per cached Store, not per delivery)."""
        return StoreContext(store_id=self.store_id, timezone=self.timezone, locale=self.locale)

    @property
    def has_rest_access(self) -> bool:
        return bool(self.rest_url and self.consumer_key and self.consumer_secret)


def secret_weakness(secret: str) -> str | None:
    """Why a webhook secret is weak ("short": under 16 characters; "low_entropy": few distinct
    characters, or one character class only and under 24 characters), or None. Never the secret itself."""
    if len(secret) < STRONG_SECRET_LENGTH:
        return "short"
    classes = sum(any(test(c) for c in secret) for test in (str.islower, str.isupper, str.isdigit))
    classes += any(not c.isalnum() for c in secret)
    if len(set(secret)) < 8 or (classes < 2 and len(secret) < 24):
        return "low_entropy"
    return None


def secret_warnings(secret: str) -> list[str]:
    """The warnings a registration or rotation with this secret answers with ([] for a strong one)."""
    return [WEAK_SECRET] if secret_weakness(secret) else []


def changed(store: Store, changes: dict[str, str | None]) -> Store:
    """`store` with `changes` (fields of UPDATABLE only) applied, its source URL normalized."""
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise ValueError(f"not changeable by update: {sorted(unknown)}")
    if "source_url" in changes:
        changes = {**changes, "source_url": normalize_source(changes["source_url"])}
    return replace(store, **changes)


def normalize_source(url: str) -> str:
    """X-WC-Webhook-Source is home_url('/') with a trailing slash; compare without case or slash noise."""
    return url.strip().lower().rstrip("/") + "/"


def source_key(url: str) -> str | None:
    """The lookup key of an X-WC-Webhook-Source, or None for one no store can have (too long)."""
    if len(url) > MAX_SOURCE_URL:
        return None
    key = normalize_source(url)
    return key if len(key) <= MAX_SOURCE_URL else None
