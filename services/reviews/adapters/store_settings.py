"""PgStoreSettings: each store's overrides of the review settings, as a JSON object in PostgreSQL.
tests/support/fakes/reviews.py's MemoryStoreSettings is its in-memory twin."""
from __future__ import annotations

import json

import asyncpg

from services.reviews.domain.store_settings import StoreOverrides


class PgStoreSettings:
    def __init__(self, db: asyncpg.Connection | asyncpg.Pool) -> None:
        self.db = db

    async def get(self, store_id: str) -> StoreOverrides:
        raw = await self.db.fetchval("SELECT overrides::text FROM store_settings WHERE store_id = $1", store_id)
        return StoreOverrides.from_dict(json.loads(raw)) if raw else StoreOverrides()

    async def put(self, store_id: str, overrides: StoreOverrides) -> None:
        await self.db.execute(
            "INSERT INTO store_settings (store_id, overrides) VALUES ($1, $2::jsonb) ON CONFLICT (store_id)"
            " DO UPDATE SET overrides = excluded.overrides, updated_at = now()",
            store_id, json.dumps(overrides.as_dict()))
