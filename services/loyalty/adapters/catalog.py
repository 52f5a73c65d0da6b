"""PgCatalog: each product's categories from catalog.v1, for category multipliers. MemoryCatalog
is its in-memory twin."""
from __future__ import annotations

from collections.abc import Iterable

import asyncpg


class PgCatalog:
    def __init__(self, db: asyncpg.Connection) -> None:
        self.db = db

    async def put(self, store_id: str, product_id: int, category_ids: list[int]) -> None:
        await self.db.execute(
            "INSERT INTO products (store_id, product_id, category_ids) VALUES ($1, $2, $3) ON CONFLICT"
            " (store_id, product_id) DO UPDATE SET category_ids = EXCLUDED.category_ids",
            store_id, product_id, category_ids)

    async def categories(self, store_id: str, product_ids: Iterable[int]) -> dict[int, list[int]]:
        rows = await self.db.fetch("SELECT product_id, category_ids FROM products WHERE store_id = $1"
                                   " AND product_id = ANY($2::bigint[])", store_id, list(product_ids))
        return {r["product_id"]: list(r["category_ids"]) for r in rows}
