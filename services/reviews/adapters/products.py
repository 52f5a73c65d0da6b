"""PgProducts: the catalogue as catalog.v1 last said it (one row per product), in PostgreSQL.
tests/support/fakes/reviews.py's MemoryProducts is its in-memory twin."""
from __future__ import annotations

import asyncpg

from services.reviews.domain.products import ProductInfo

Executor = asyncpg.Connection | asyncpg.Pool


class PgProducts:
    def __init__(self, db: Executor) -> None:
        self.db = db

    async def upsert(self, p: ProductInfo) -> None:
        await self.db.execute(
            "INSERT INTO products (store_id, product_id, name, image_url, permalink, category_ids)"
            " VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (store_id, product_id) DO UPDATE SET name = excluded.name,"
            " image_url = excluded.image_url, permalink = excluded.permalink, category_ids = excluded.category_ids",
            p.store_id, p.product_id, p.name, p.image_url, p.permalink, list(p.category_ids))

    async def delete(self, store_id: str, product_id: int) -> None:
        await self.db.execute("DELETE FROM products WHERE store_id = $1 AND product_id = $2", store_id, product_id)

    async def get_many(self, store_id: str, product_ids: list[int]) -> dict[int, ProductInfo]:
        rows = await self.db.fetch(
            "SELECT store_id, product_id, name, image_url, permalink, category_ids FROM products"
            " WHERE store_id = $1 AND product_id = ANY($2::bigint[])", store_id, product_ids)
        return {r["product_id"]: ProductInfo(**{**dict(r), "category_ids": tuple(r["category_ids"])}) for r in rows}
