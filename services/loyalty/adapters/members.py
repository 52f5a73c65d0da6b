"""PgMembers: one row per customer key — the email coupons are restricted to, the tier. The only
personal data loyalty keeps (customer.erased clears it). MemoryMembers is its in-memory twin."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg


@dataclass(frozen=True)
class Member:
    customer_key: str
    store_id: str
    email: str | None
    tier: str | None


class PgMembers:
    def __init__(self, db: asyncpg.Connection | asyncpg.Pool) -> None:
        self.db = db

    async def get(self, customer_key: str) -> Member | None:
        row = await self.db.fetchrow("SELECT customer_key, store_id, email, tier FROM members WHERE customer_key = $1",
                                     customer_key)
        return None if row is None else Member(**dict(row))

    async def lock(self, customer_key: str) -> Member | None:
        """The member, locked until the transaction ends: one redemption at a time per customer."""
        row = await self.db.fetchrow("SELECT customer_key, store_id, email, tier FROM members WHERE customer_key = $1"
                                     " FOR UPDATE", customer_key)
        return None if row is None else Member(**dict(row))

    async def seen(self, customer_key: str, store_id: str, email: str | None) -> None:
        """The member exists; its email is the latest known (kept when an event carries none)."""
        await self.db.execute(
            "INSERT INTO members (customer_key, store_id, email) VALUES ($1, $2, $3) ON CONFLICT (customer_key)"
            " DO UPDATE SET email = coalesce(EXCLUDED.email, members.email), updated_at = now()",
            customer_key, store_id, email)

    async def change_tier(self, customer_key: str, store_id: str, tier: str | None, at: datetime) -> str | None | bool:
        """Set the tier; returns the tier it had, or False when it already was `tier` (the row is
        locked: of two instances making the same change, one announces it)."""
        await self.seen(customer_key, store_id, None)
        old = await self.db.fetchval("SELECT tier FROM members WHERE customer_key = $1 FOR UPDATE", customer_key)
        if old == tier:
            return False
        await self.db.execute("UPDATE members SET tier = $2, tier_changed_at = $3, updated_at = now()"
                              " WHERE customer_key = $1", customer_key, tier, at)
        return old

    async def touch(self, customer_key: str, store_id: str, at: datetime) -> None:
        """Activity at `at` (an earning or a redemption); the latest is kept, whatever the order."""
        await self.db.execute(
            "INSERT INTO members (customer_key, store_id, last_activity_at) VALUES ($1, $2, $3) ON CONFLICT"
            " (customer_key) DO UPDATE SET last_activity_at = greatest(members.last_activity_at, EXCLUDED.last_activity_at)",
            customer_key, store_id, at)

    async def inactive_since(self, store_id: str, before: datetime, limit: int = 500) -> list[tuple[str, datetime]]:
        """Members of the store holding available points whose last activity is before `before`,
        oldest first."""
        rows = await self.db.fetch(
            "SELECT m.customer_key, m.last_activity_at FROM members m WHERE m.store_id = $1 AND m.last_activity_at < $2"
            " AND (SELECT coalesce(sum(l.points), 0) FROM ledger l WHERE l.customer_key = m.customer_key"
            " AND l.bucket = 'available') > 0 ORDER BY m.last_activity_at LIMIT $3", store_id, before, limit)
        return [(r["customer_key"], r["last_activity_at"]) for r in rows]

    async def stores(self) -> list[str]:
        rows = await self.db.fetch("SELECT DISTINCT store_id FROM members ORDER BY store_id")
        return [r["store_id"] for r in rows]

    async def tiered(self, store_id: str) -> list[str]:
        rows = await self.db.fetch("SELECT customer_key FROM members WHERE store_id = $1 AND tier IS NOT NULL"
                                   " ORDER BY customer_key", store_id)
        return [r["customer_key"] for r in rows]

    async def set_birthday(self, customer_key: str, store_id: str, month: int, day: int) -> None:
        await self.seen(customer_key, store_id, None)
        await self.db.execute("UPDATE members SET birth_month = $2, birth_day = $3, updated_at = now()"
                              " WHERE customer_key = $1", customer_key, month, day)

    async def born_on(self, store_id: str, days: list[tuple[int, int]]) -> list[str]:
        """Members of the store whose birthday is one of (month, day)."""
        rows = await self.db.fetch(
            "SELECT customer_key FROM members WHERE store_id = $1 AND (birth_month, birth_day) IN"
            " (SELECT * FROM unnest($2::smallint[], $3::smallint[])) ORDER BY customer_key",
            store_id, [m for m, _ in days], [d for _, d in days])
        return [r["customer_key"] for r in rows]

    async def tiered_stores(self) -> list[str]:
        rows = await self.db.fetch("SELECT DISTINCT store_id FROM members WHERE tier IS NOT NULL ORDER BY store_id")
        return [r["store_id"] for r in rows]
