"""PgCustomerLinks: guest keys linked to account keys (customer.linked), so events still keyed by a
guest's email key land on the account. tests/support/fakes/loyalty.py's MemoryLinks is its twin."""
from __future__ import annotations

import asyncpg

MAX_HOPS = 5  # a guest key linked to a key that was itself linked: follow a few, never loop


class PgCustomerLinks:
    def __init__(self, db: asyncpg.Connection | asyncpg.Pool) -> None:
        self.db = db

    async def link(self, from_key: str, to_key: str, cause_event_id: str) -> bool:
        """Record the link; False when `from_key` was linked already (it is merged once)."""
        return bool(await self.db.fetchval(
            "INSERT INTO customer_links (from_key, to_key, cause_event_id) VALUES ($1, $2, $3)"
            " ON CONFLICT (from_key) DO NOTHING RETURNING 1", from_key, to_key, cause_event_id))

    async def canonical(self, key: str) -> str:
        """The key `key`'s points live under (itself when it was never linked)."""
        seen = {key}
        for _ in range(MAX_HOPS):
            nxt = await self.db.fetchval("SELECT to_key FROM customer_links WHERE from_key = $1", key)
            if nxt is None or nxt in seen:
                return key
            seen.add(nxt)
            key = nxt
        return key
