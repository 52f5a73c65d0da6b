"""PgProgramStatistics: one store's program figures, summed from the ledger and the orders' facts
(the truth, unlike the metrics' counters), and the adjustments table."""
from __future__ import annotations

import asyncpg


class PgProgramStatistics:
    def __init__(self, db: asyncpg.Connection | asyncpg.Pool) -> None:
        self.db = db

    async def figures(self, store_id: str) -> dict[str, int]:
        row = await self.db.fetchrow(
            "SELECT (SELECT count(*) FROM members WHERE store_id = $1) AS members,"
            " coalesce(sum(points) FILTER (WHERE bucket = 'pending'), 0) AS pending,"
            " coalesce(sum(points) FILTER (WHERE bucket = 'available'), 0) AS available,"
            " coalesce(-sum(points) FILTER (WHERE reason IN ('redemption', 'redemption.returned')), 0) AS redeemed,"
            " coalesce(-sum(points) FILTER (WHERE reason = 'expiry'), 0) AS expired,"
            " coalesce(sum(points) FILTER (WHERE order_id IS NOT NULL), 0) AS held_by_orders"
            " FROM ledger WHERE store_id = $1", store_id)
        awarded = await self.db.fetchval(
            "SELECT coalesce(sum((f.facts -> 'award' ->> 'order_level')::bigint"
            " + (SELECT coalesce(sum((l ->> 3)::bigint), 0) FROM jsonb_array_elements(f.facts -> 'award' -> 'lines') l)),"
            " 0) FROM order_facts f WHERE f.store_id = $1 AND jsonb_typeof(f.facts -> 'award') = 'object'", store_id)
        out = {k: int(v) for k, v in dict(row).items()}
        out["awarded_by_orders"] = int(awarded)
        return out


class PgAdjustments:
    def __init__(self, db: asyncpg.Connection) -> None:
        self.db = db

    async def add(self, *, adjustment_id: str, customer_key: str, store_id: str, points: int, reason: str,
                  actor: str) -> bool:
        """False when this adjustment was recorded already (a retried request)."""
        return bool(await self.db.fetchval(
            "INSERT INTO adjustments (adjustment_id, customer_key, store_id, points, reason, actor) VALUES"
            " ($1,$2,$3,$4,$5,$6) ON CONFLICT (adjustment_id) DO NOTHING RETURNING 1",
            adjustment_id, customer_key, store_id, points, reason, actor))

    async def get(self, adjustment_id: str) -> dict | None:
        row = await self.db.fetchrow("SELECT adjustment_id, customer_key, points, reason, actor FROM adjustments"
                                     " WHERE adjustment_id = $1", adjustment_id)
        return None if row is None else dict(row)
