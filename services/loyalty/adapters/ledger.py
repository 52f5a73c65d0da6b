"""PgLedger: append-only points ledger rows and balances."""
from __future__ import annotations

import asyncpg


class PgLedger:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def append(self, *, entry_id: str, cause_event_id: str, customer_key: str, store_id: str,
                     order_id: int | None, bucket: str, points: int, reason: str) -> bool:
        return bool(await self.conn.fetchval(
            "INSERT INTO ledger (entry_id, cause_event_id, customer_key, store_id, order_id, bucket, points,"
            " reason) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (entry_id) DO NOTHING RETURNING 1",
            entry_id, cause_event_id, customer_key, store_id, order_id, bucket, points, reason))

    async def order_points(self, store_id: str, order_id: int, bucket: str) -> int:
        return int(await self.conn.fetchval(
            "SELECT coalesce(sum(points), 0) FROM ledger WHERE store_id = $1 AND order_id = $2 AND bucket = $3",
            store_id, order_id, bucket))

    async def earned_for_order(self, store_id: str, order_id: int) -> int:
        return int(await self.conn.fetchval(
            "SELECT coalesce(sum(points), 0) FROM ledger WHERE store_id = $1 AND order_id = $2"
            " AND reason = 'order.paid'", store_id, order_id))


async def balance(pool: asyncpg.Pool, customer_key: str) -> dict[str, int]:
    rows = await pool.fetch("SELECT bucket, coalesce(sum(points), 0) AS pts FROM ledger WHERE customer_key = $1"
                            " GROUP BY bucket", customer_key)
    out = {"pending": 0, "available": 0}
    out.update({r["bucket"]: int(r["pts"]) for r in rows})
    return out
