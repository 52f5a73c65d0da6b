"""PgRedemptions: the redemptions table (migrations/004), in a transaction of the redemption use
case. MemoryRedemptions is its in-memory twin."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import asyncpg


@dataclass(frozen=True)
class Redemption:
    redemption_id: str
    customer_key: str
    store_id: str
    points: int
    amount: Decimal
    currency: str
    minimum_amount: Decimal
    code: str
    expires_at: datetime
    status: str
    coupon_id: int | None
    attempts: int
    created_at: datetime


_COLUMNS = ("redemption_id, customer_key, store_id, points, amount, currency, minimum_amount, code, expires_at,"
            " status, coupon_id, attempts, created_at")


class PgRedemptions:
    def __init__(self, db: asyncpg.Connection | asyncpg.Pool) -> None:
        self.db = db

    async def get(self, redemption_id: str, *, lock: bool = False) -> Redemption | None:
        row = await self.db.fetchrow(f"SELECT {_COLUMNS} FROM redemptions WHERE redemption_id = $1"
                                     + (" FOR UPDATE" if lock else ""), redemption_id)
        return None if row is None else Redemption(**dict(row))

    async def create(self, *, redemption_id: str, customer_key: str, store_id: str, points: int, amount: Decimal,
                     currency: str, minimum_amount: Decimal, code: str, expires_at: datetime) -> None:
        await self.db.execute(
            "INSERT INTO redemptions (redemption_id, customer_key, store_id, points, amount, currency, minimum_amount,"
            " code, expires_at, status) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,'held')",
            redemption_id, customer_key, store_id, points, amount, currency, minimum_amount, code, expires_at)

    async def settle(self, redemption_id: str, status: str, *, coupon_id: int | None = None) -> bool:
        """held → issued or returned; False when it was settled already (by another attempt)."""
        done = await self.db.fetchval(
            "UPDATE redemptions SET status = $2, coupon_id = $3, updated_at = now() WHERE redemption_id = $1"
            " AND status = 'held' RETURNING 1", redemption_id, status, coupon_id)
        return bool(done)

    async def attempted(self, redemption_id: str, error: str) -> None:
        await self.db.execute("UPDATE redemptions SET attempts = attempts + 1, last_error = $2, updated_at = now()"
                              " WHERE redemption_id = $1", redemption_id, error[:200])

    async def held(self, older_than: datetime, limit: int = 100) -> list[Redemption]:
        rows = await self.db.fetch(f"SELECT {_COLUMNS} FROM redemptions WHERE status = 'held' AND updated_at < $1"
                                   " ORDER BY created_at LIMIT $2", older_than, limit)
        return [Redemption(**dict(r)) for r in rows]
