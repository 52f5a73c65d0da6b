"""PgOrderFacts: what loyalty knows of each order (domain/order_points.py's OrderFacts) as a JSONB
row per (store, order), read and written in the consumer's transaction. The row is locked when read
(FOR UPDATE) so two events of one order never interleave. tests/support/fakes/loyalty.py's
MemoryOrderFacts is its in-memory twin."""
from __future__ import annotations

from datetime import datetime

import asyncpg
import orjson

from services.loyalty.domain.order_points import OrderFacts


class PgOrderFacts:
    def __init__(self, db: asyncpg.Connection) -> None:
        self.db = db

    async def get(self, store_id: str, order_id: int) -> OrderFacts | None:
        row = await self.db.fetchrow("SELECT customer_key, facts FROM order_facts WHERE store_id = $1"
                                     " AND order_id = $2 FOR UPDATE", store_id, order_id)
        if row is None:
            return None
        return OrderFacts.from_json(store_id, order_id, row["customer_key"], orjson.loads(row["facts"]))

    async def put(self, facts: OrderFacts) -> None:
        await self.db.execute(
            "INSERT INTO order_facts (store_id, order_id, customer_key, facts) VALUES ($1, $2, $3, $4::jsonb)"
            " ON CONFLICT (store_id, order_id) DO UPDATE SET customer_key = EXCLUDED.customer_key,"
            " facts = EXCLUDED.facts, updated_at = now()",
            facts.store_id, facts.order_id, facts.customer_key, orjson.dumps(facts.to_json()).decode())

    async def of_customer(self, customer_key: str) -> list[OrderFacts]:
        rows = await self.db.fetch("SELECT store_id, order_id, customer_key, facts FROM order_facts"
                                   " WHERE customer_key = $1 ORDER BY store_id, order_id", customer_key)
        return [OrderFacts.from_json(r["store_id"], r["order_id"], r["customer_key"], orjson.loads(r["facts"]))
                for r in rows]

    async def has_award(self, customer_key: str, exclude_order: tuple[str, int]) -> bool:
        """Whether another order of the customer was awarded points (the first-order bonus)."""
        return bool(await self.db.fetchval(
            "SELECT EXISTS (SELECT 1 FROM order_facts WHERE customer_key = $1"
            " AND jsonb_typeof(facts -> 'award') = 'object' AND NOT (store_id = $2 AND order_id = $3))",
            customer_key, *exclude_order))

    async def due_to_mature(self, store_id: str, paid_before: datetime, limit: int = 500) -> list[int]:
        """Orders of the store paid before `paid_before` whose return window hasn't been applied."""
        rows = await self.db.fetch(
            "SELECT order_id FROM order_facts WHERE store_id = $1 AND jsonb_typeof(facts -> 'award') = 'object'"
            " AND coalesce((facts ->> 'matured')::boolean, false) = false AND (facts ->> 'paid_at')::timestamptz < $2"
            " ORDER BY order_id LIMIT $3", store_id, paid_before, limit)
        return [r["order_id"] for r in rows]

    async def stores(self) -> list[str]:
        rows = await self.db.fetch("SELECT DISTINCT store_id FROM order_facts ORDER BY store_id")
        return [r["store_id"] for r in rows]

    async def rekey(self, from_key: str, to_key: str) -> int:
        """The orders of `from_key` now belong to `to_key` (customer.linked)."""
        status = await self.db.execute("UPDATE order_facts SET customer_key = $2, updated_at = now()"
                                       " WHERE customer_key = $1", from_key, to_key)
        return int(status.split()[-1])
