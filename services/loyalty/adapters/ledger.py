"""PgLedger: the append-only points ledger in PostgreSQL — the writes and sums the handlers need
(bound to the consumer's transaction) and the reads the API serves (bound to the pool).
tests/support/fakes/loyalty.py's MemoryLedger is its in-memory twin."""
from __future__ import annotations

import asyncpg

from services.loyalty.domain.ledger import LedgerEntry, empty_balance

# Connection (a unit of work's transaction) or pool (the API's reads): both answer fetch/fetchval.
Executor = asyncpg.Connection | asyncpg.Pool


class PgLedger:
    def __init__(self, db: Executor) -> None:
        self.db = db

    async def append(self, *, entry_id: str, cause_event_id: str, customer_key: str, store_id: str,
                     order_id: int | None, bucket: str, points: int, reason: str) -> bool:
        """Add an entry; False when its entry id is already there (a replayed cause)."""
        return bool(await self.db.fetchval(
            "INSERT INTO ledger (entry_id, cause_event_id, customer_key, store_id, order_id, bucket, points,"
            " reason) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (entry_id) DO NOTHING RETURNING 1",
            entry_id, cause_event_id, customer_key, store_id, order_id, bucket, points, reason))

    async def order_points(self, store_id: str, order_id: int, bucket: str) -> int:
        """What one order holds in one bucket."""
        return int(await self.db.fetchval(
            "SELECT coalesce(sum(points), 0) FROM ledger WHERE store_id = $1 AND order_id = $2 AND bucket = $3",
            store_id, order_id, bucket))

    async def order_position(self, store_id: str, order_id: int) -> tuple[int, int]:
        """What one order holds: (pending, available), in one statement."""
        row = await self.db.fetchrow(
            "SELECT coalesce(sum(points) FILTER (WHERE bucket = 'pending'), 0) AS p,"
            " coalesce(sum(points) FILTER (WHERE bucket = 'available'), 0) AS a"
            " FROM ledger WHERE store_id = $1 AND order_id = $2", store_id, order_id)
        return int(row["p"]), int(row["a"])

    async def earned_for_order(self, store_id: str, order_id: int) -> int:
        """What the order earned when it was paid."""
        return int(await self.db.fetchval(
            "SELECT coalesce(sum(points), 0) FROM ledger WHERE store_id = $1 AND order_id = $2"
            " AND reason = 'order.paid'", store_id, order_id))

    async def holdings(self, customer_key: str) -> list[tuple[str, int | None, str, int]]:
        """What the customer holds, per (store, order or None, bucket), non-zero only."""
        rows = await self.db.fetch(
            "SELECT store_id, order_id, bucket, sum(points) AS pts FROM ledger WHERE customer_key = $1"
            " GROUP BY store_id, order_id, bucket HAVING sum(points) <> 0 ORDER BY store_id, order_id NULLS FIRST,"
            " bucket", customer_key)
        return [(r["store_id"], r["order_id"], r["bucket"], int(r["pts"])) for r in rows]

    async def balance(self, customer_key: str) -> dict[str, int]:
        """The customer's points per bucket (every bucket present, 0 when empty)."""
        rows = await self.db.fetch("SELECT bucket, coalesce(sum(points), 0) AS pts FROM ledger"
                                   " WHERE customer_key = $1 GROUP BY bucket", customer_key)
        out = empty_balance()
        out.update({r["bucket"]: int(r["pts"]) for r in rows})
        return out

    async def entries(self, customer_key: str, limit: int = 500, offset: int = 0) -> list[LedgerEntry]:
        """The customer's entries, newest first (entries of one transaction by entry id)."""
        rows = await self.db.fetch(
            "SELECT entry_id, cause_event_id, customer_key, store_id, order_id, bucket, points, reason, created_at"
            " FROM ledger WHERE customer_key = $1 ORDER BY created_at DESC, entry_id LIMIT $2 OFFSET $3",
            customer_key, limit, offset)
        return [LedgerEntry(**dict(r)) for r in rows]
