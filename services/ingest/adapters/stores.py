"""PgStores: the registry of stores (site URL → store id, webhook secrets, REST credentials), with
every secret encrypted at rest (adapters/secret_box.py) and what registering and rotating mean
(domain/stores.py).

Lookups on the webhook path are cached: a store's secret is read on every delivery, and thousands
of deliveries a second must not each cost a query (or a decryption: secrets are decrypted once per
cache fill). The cache is bounded in size and time, and keyed only by source URLs of bounded
length; a URL no store has is remembered in a small cache of its own, so senders of made-up
sources can't grow memory or push real stores out.
"""
from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import asyncpg

from services.ingest.adapters.secret_box import SecretBox, SecretUnreadable
from services.ingest.domain.stores import (Store, StoreExists, changed, normalize_source, secret_weakness,
                                           source_key)
from services.ingest.metrics import ingest_metrics
from shared.logging import get_logger

log = get_logger(__name__)

_COLUMNS = ("store_id, source_url, webhook_secret, previous_secret, previous_secret_until, rest_url, consumer_key,"
            " consumer_secret, timezone, locale, secrets_key_id, rest_ca_bundle, rest_cert_sha256")
# Every write seals every secret of the row with the current key, so a row has one key id.
_SEAL = ("UPDATE stores SET webhook_secret = $2, previous_secret = $3, previous_secret_until = $4,"
         " consumer_key = $5, consumer_secret = $6, secrets_key_id = $7 WHERE store_id = $1")


class _Lru:
    """At most `size` entries, each for `ttl_s`; the least recently used goes first."""

    def __init__(self, size: int, ttl_s: float) -> None:
        self.size, self.ttl_s = size, ttl_s
        self._items: OrderedDict[str, tuple[float, object]] = OrderedDict()

    def get(self, key: str, now: float) -> object | None:
        hit = self._items.get(key)
        if hit is None:
            return None
        if now - hit[0] >= self.ttl_s:
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return hit[1]

    def put(self, key: str, value: object, now: float) -> None:
        if self.size <= 0:
            return
        self._items[key] = (now, value)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


class PgStores:
    def __init__(self, pool: asyncpg.Pool, box: SecretBox, ttl_s: float = 5.0, max_entries: int = 10_000,
                 max_misses: int = 1_024) -> None:
        self.pool, self.box = pool, box
        self._hits = _Lru(max_entries, ttl_s)
        self._misses = _Lru(max_misses, ttl_s)

    @property
    def cached(self) -> tuple[int, int]:
        """(stores, unknown sources) the lookup cache holds now."""
        return len(self._hits), len(self._misses)

    def _open(self, row: asyncpg.Record | None, quiet: bool = False) -> Store | None:
        if row is None:
            return None
        # secrets_key_id NULL: a row from before encryption, in plain text until reseal() seals it.
        opened = (lambda v: v) if row["secrets_key_id"] is None else self.box.open
        try:
            return Store(store_id=row["store_id"], source_url=row["source_url"],
                         webhook_secret=opened(row["webhook_secret"]), previous_secret=opened(row["previous_secret"]),
                         previous_secret_until=row["previous_secret_until"], rest_url=row["rest_url"],
                         consumer_key=opened(row["consumer_key"]), consumer_secret=opened(row["consumer_secret"]),
                         timezone=row["timezone"], locale=row["locale"], rest_ca_bundle=row["rest_ca_bundle"],
                         rest_cert_sha256=row["rest_cert_sha256"])
        except SecretUnreadable:
            if not quiet:
                log.error("store_secrets_unreadable", store_id=row["store_id"],
                          hint="the key that sealed them is not in AFTERCART_INGEST_SECRETS_KEYS")
            raise

    def _sealed(self, s: Store) -> tuple:
        seal = self.box.seal
        return (s.store_id, seal(s.webhook_secret), seal(s.previous_secret), s.previous_secret_until,
                seal(s.consumer_key), seal(s.consumer_secret), self.box.key_id)

    async def by_source(self, source_url: str) -> Store | None:
        key = source_key(source_url)
        if key is None:  # longer than any store's URL: not worth a query, never remembered
            return None
        now = time.monotonic()
        store = self._hits.get(key, now)
        if store is not None:
            return store
        if self._misses.get(key, now) is not None:
            return None
        store = self._open(await self.pool.fetchrow(f"SELECT {_COLUMNS} FROM stores WHERE source_url = $1", key))
        if store is not None:
            self._hits.put(key, store, time.monotonic())
        else:
            self._misses.put(key, True, time.monotonic())
        return store

    async def get(self, store_id: str) -> Store | None:
        return self._open(await self.pool.fetchrow(f"SELECT {_COLUMNS} FROM stores WHERE store_id = $1", store_id))

    async def all(self) -> list[Store]:
        return [self._open(r) for r in await self.pool.fetch(f"SELECT {_COLUMNS} FROM stores ORDER BY store_id")]

    async def register(self, store_id: str, source_url: str, webhook_secret: str, rest_url: str | None,
                       consumer_key: str | None, consumer_secret: str | None, timezone_name: str,
                       locale: str | None, *, rest_ca_bundle: str | None = None,
                       rest_cert_sha256: str | None = None) -> Store:
        """Create a store; an id already registered raises StoreExists and nothing changes (a
        store changes by update, its secret by rotate_secret). A source URL another store has
        raises asyncpg's UniqueViolationError (a 409)."""
        fresh = Store(store_id=store_id, source_url=normalize_source(source_url), webhook_secret=webhook_secret,
                      previous_secret=None, previous_secret_until=None, rest_url=rest_url,
                      consumer_key=consumer_key, consumer_secret=consumer_secret, timezone=timezone_name,
                      locale=locale, rest_ca_bundle=rest_ca_bundle, rest_cert_sha256=rest_cert_sha256)
        inserted = await self.pool.fetchval(
            "INSERT INTO stores (store_id, source_url, webhook_secret, previous_secret, previous_secret_until,"
            " consumer_key, consumer_secret, secrets_key_id, rest_url, timezone, locale, rest_ca_bundle,"
            " rest_cert_sha256) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)"
            " ON CONFLICT (store_id) DO NOTHING RETURNING 1",
            store_id, fresh.source_url, *self._sealed(fresh)[1:], rest_url, timezone_name, locale, rest_ca_bundle,
            rest_cert_sha256)
        if not inserted:
            raise StoreExists(store_id)
        self._forget()
        return fresh

    async def update(self, store_id: str, changes: dict[str, str | None]) -> Store | None:
        """Set the fields of `changes` (domain/stores.py's UPDATABLE: source URL, REST access, time
        zone, locale; never a secret); None for an unknown store. A source URL another store has
        raises asyncpg's UniqueViolationError (a 409)."""
        async with self.pool.acquire() as conn, conn.transaction():
            current = self._open(await conn.fetchrow(
                f"SELECT {_COLUMNS} FROM stores WHERE store_id = $1 FOR UPDATE", store_id))
            if current is None:
                return None
            updated = changed(current, changes)
            await conn.execute("UPDATE stores SET source_url = $2, rest_url = $3, timezone = $4, locale = $5,"
                               " rest_ca_bundle = $6, rest_cert_sha256 = $7 WHERE store_id = $1", store_id,
                               updated.source_url, updated.rest_url, updated.timezone, updated.locale,
                               updated.rest_ca_bundle, updated.rest_cert_sha256)
            await conn.execute(_SEAL, *self._sealed(updated))
        self._forget()
        return updated

    async def rotate_secret(self, store_id: str, new_secret: str, overlap_s: int) -> Store | None:
        """`new_secret` becomes current; the current one stays valid `overlap_s` more seconds (none
        at 0), and every earlier secret is gone."""
        async with self.pool.acquire() as conn, conn.transaction():
            current = self._open(await conn.fetchrow(
                f"SELECT {_COLUMNS} FROM stores WHERE store_id = $1 FOR UPDATE", store_id))
            if current is None:
                return None
            keep = overlap_s > 0
            rotated = replace(
                current, webhook_secret=new_secret, previous_secret=current.webhook_secret if keep else None,
                previous_secret_until=datetime.now(timezone.utc) + timedelta(seconds=overlap_s) if keep else None)
            await conn.execute(_SEAL, *self._sealed(rotated))
        self._forget()
        return rotated

    async def reseal(self) -> dict[str, int]:
        """Seal rows still in plain text and re-seal rows under an older key with the current one;
        erase previous secrets whose overlap is over. Safe with several instances running it."""
        done, unreadable = 0, []
        ids = await self.pool.fetch("SELECT store_id FROM stores WHERE secrets_key_id IS DISTINCT FROM $1",
                                    self.box.key_id)
        for (store_id,) in ids:
            async with self.pool.acquire() as conn, conn.transaction():
                row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM stores WHERE store_id = $1"
                                          " AND secrets_key_id IS DISTINCT FROM $2 FOR UPDATE", store_id,
                                          self.box.key_id)
                if row is None:
                    continue  # sealed meanwhile by a registration, a rotation or another instance
                try:
                    store = self._open(row, quiet=True)
                except SecretUnreadable:
                    unreadable.append(store_id)
                    continue
                await conn.execute(_SEAL, *self._sealed(store))
                done += 1
        expired = await self.pool.execute(
            "UPDATE stores SET previous_secret = NULL, previous_secret_until = NULL"
            " WHERE previous_secret IS NOT NULL AND (previous_secret_until IS NULL OR previous_secret_until <= now())")
        erased = int(expired.split()[-1])
        if unreadable:
            log.error("store_secrets_unreadable", stores=len(unreadable), first=unreadable[:5],
                      hint="the key that sealed them is not in AFTERCART_INGEST_SECRETS_KEYS")
        if done or erased:
            log.info("store_secrets_resealed", resealed=done, expired_previous_erased=erased)
        await self.count_weak_secrets()
        return {"resealed": done, "unreadable": len(unreadable), "expired_previous_erased": erased}

    async def count_weak_secrets(self) -> int:
        """Stores whose current webhook secret is weak; sets the ingest_stores_weak_secret gauge."""
        weak = 0
        for row in await self.pool.fetch("SELECT webhook_secret, secrets_key_id FROM stores"):
            try:
                secret = row["webhook_secret"] if row["secrets_key_id"] is None else self.box.open(row["webhook_secret"])
            except SecretUnreadable:
                continue  # reported by reseal (store_secrets_unreadable)
            weak += secret_weakness(secret) is not None
        ingest_metrics().weak_secrets.set(weak)
        return weak

    def _forget(self) -> None:
        self._hits.clear()
        self._misses.clear()
