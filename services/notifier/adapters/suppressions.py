"""PgSuppressions: the suppression list — (store, address hash, reason) rows; never an address.
Every channel consults it through gating (services/notifier/gating.py). Its in-memory twin is
tests/support/fakes/notifier.py's MemorySuppressions (same methods, same rules).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg


@dataclass(frozen=True)
class Suppression:
    store_id: str
    address_hash: str
    reason: str
    detail: str | None
    created_at: datetime


class PgSuppressions:
    def __init__(self, db: asyncpg.Connection | asyncpg.Pool) -> None:
        self.db = db

    async def reasons(self, store_id: str, address_hash: str) -> set[str]:
        rows = await self.db.fetch("SELECT reason FROM suppressions WHERE store_id = $1 AND address_hash = $2",
                                   store_id, address_hash)
        return {r["reason"] for r in rows}

    async def add(self, store_id: str, address_hash: str, reason: str, detail: str | None = None) -> bool:
        """Suppress; False when it already was for this reason (the first entry and its time stay)."""
        return bool(await self.db.fetchval(
            "INSERT INTO suppressions (store_id, address_hash, reason, detail) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT DO NOTHING RETURNING 1", store_id, address_hash, reason, detail))

    async def get(self, store_id: str, address_hash: str, reason: str) -> Suppression | None:
        row = await self.db.fetchrow(
            "SELECT store_id, address_hash, reason, detail, created_at FROM suppressions"
            " WHERE store_id = $1 AND address_hash = $2 AND reason = $3", store_id, address_hash, reason)
        return Suppression(**dict(row)) if row else None

    async def remove(self, store_id: str, address_hash: str, reason: str) -> bool:
        return (await self.db.execute(
            "DELETE FROM suppressions WHERE store_id = $1 AND address_hash = $2 AND reason = $3",
            store_id, address_hash, reason)) != "DELETE 0"

    async def list(self, store_id: str, *, reason: str | None = None, limit: int = 100,
                   after: str | None = None) -> list[Suppression]:
        """A store's entries by address hash (then reason), from after `after` (paging)."""
        rows = await self.db.fetch(
            "SELECT store_id, address_hash, reason, detail, created_at FROM suppressions"
            " WHERE store_id = $1 AND ($2::text IS NULL OR reason = $2) AND ($3::text IS NULL OR address_hash > $3)"
            " ORDER BY address_hash, reason LIMIT $4", store_id, reason, after, limit)
        return [Suppression(**dict(r)) for r in rows]
