"""PgStoreRules: each store's earning rules (a JSONB row over the settings' defaults). Read in the
consumer's transaction (handlers) and through the pool (API). MemoryStoreRules is its twin."""
from __future__ import annotations

import asyncpg
import orjson

from services.loyalty.domain.rules import EarningRules, rules_from_json, rules_to_json


class PgStoreRules:
    def __init__(self, db: asyncpg.Connection | asyncpg.Pool, defaults: EarningRules) -> None:
        self.db, self.defaults = db, defaults

    async def for_store(self, store_id: str) -> EarningRules:
        raw = await self.db.fetchval("SELECT rules FROM store_rules WHERE store_id = $1", store_id)
        return self.defaults if raw is None else rules_from_json(orjson.loads(raw), self.defaults)

    async def put(self, store_id: str, rules: EarningRules) -> None:
        """Every field of `rules` set for the store."""
        await self.put_json(store_id, rules_to_json(rules))

    async def put_json(self, store_id: str, fields: dict) -> None:
        """The fields the store sets (as rules_to_json writes them); the others follow the defaults."""
        await self.db.execute(
            "INSERT INTO store_rules (store_id, rules) VALUES ($1, $2::jsonb) ON CONFLICT (store_id)"
            " DO UPDATE SET rules = EXCLUDED.rules, updated_at = now()",
            store_id, orjson.dumps(fields).decode())
