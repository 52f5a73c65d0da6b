"""PgStores: the registry of stores (site URL → store id, webhook secrets, REST credentials).

Lookups on the webhook path are cached for a few seconds: a store's secret is read on every
delivery, and thousands of deliveries a second must not each cost a query.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import asyncpg

from services.ingest.domain.stores import Store, normalize_source

_COLUMNS = ("store_id, source_url, webhook_secret, previous_secret, previous_secret_until, rest_url, consumer_key,"
            " consumer_secret, timezone, locale")


def _store(row: asyncpg.Record | None) -> Store | None:
    return Store(**dict(row)) if row is not None else None


class PgStores:
    def __init__(self, pool: asyncpg.Pool, ttl_s: float = 5.0) -> None:
        self.pool, self.ttl_s = pool, ttl_s
        self._cache: dict[str, tuple[float, Store | None]] = {}

    async def by_source(self, source_url: str) -> Store | None:
        key = normalize_source(source_url)
        hit = self._cache.get(key)
        if hit and time.monotonic() - hit[0] < self.ttl_s:
            return hit[1]
        store = _store(await self.pool.fetchrow(f"SELECT {_COLUMNS} FROM stores WHERE source_url = $1", key))
        self._cache[key] = (time.monotonic(), store)
        return store

    async def get(self, store_id: str) -> Store | None:
        return _store(await self.pool.fetchrow(f"SELECT {_COLUMNS} FROM stores WHERE store_id = $1", store_id))

    async def all(self) -> list[Store]:
        return [_store(r) for r in await self.pool.fetch(f"SELECT {_COLUMNS} FROM stores ORDER BY store_id")]

    async def register(self, store_id: str, source_url: str, webhook_secret: str, rest_url: str | None,
                       consumer_key: str | None, consumer_secret: str | None, timezone_name: str,
                       locale: str | None) -> Store:
        """Create or update a store (idempotent by store id)."""
        await self.pool.execute(
            "INSERT INTO stores (store_id, source_url, webhook_secret, rest_url, consumer_key,"
            " consumer_secret, timezone, locale) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)"
            " ON CONFLICT (store_id) DO UPDATE SET source_url = EXCLUDED.source_url,"
            " webhook_secret = EXCLUDED.webhook_secret, rest_url = EXCLUDED.rest_url,"
            " consumer_key = EXCLUDED.consumer_key, consumer_secret = EXCLUDED.consumer_secret,"
            " timezone = EXCLUDED.timezone, locale = EXCLUDED.locale",
            store_id, normalize_source(source_url), webhook_secret, rest_url, consumer_key,
            consumer_secret, timezone_name, locale)
        self._cache.clear()
        return await self.get(store_id)

    async def rotate_secret(self, store_id: str, new_secret: str, overlap_s: int) -> Store | None:
        until = datetime.now(timezone.utc) + timedelta(seconds=overlap_s)
        row = await self.pool.fetchrow(
            "UPDATE stores SET previous_secret = webhook_secret, previous_secret_until = $3,"
            " webhook_secret = $2 WHERE store_id = $1 RETURNING store_id", store_id, new_secret, until)
        self._cache.clear()
        return await self.get(store_id) if row else None
