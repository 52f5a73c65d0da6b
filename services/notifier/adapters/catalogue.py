"""PgCatalogue: the products the notifier recommends and reminds of (`catalogue`, from catalog.v1),
and PgMessageProducts: which products a recommendation or reminder names (`message_products`).
An older catalogue event never overwrites a newer one; a deleted product keeps its row, marked.
tests/support/fakes/notifier_profiles.py has their in-memory twins."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import asyncpg

from services.notifier.domain.catalogue import CatalogueProduct

_FIELDS = ("store_id, product_id, name, status, price, currency, permalink, image, stock_status, cross_sell_ids,"
           " upsell_ids, related_ids, categories, usage_period_days, deleted")


def _product(row: asyncpg.Record) -> CatalogueProduct:
    d = dict(row)
    for name in ("cross_sell_ids", "upsell_ids", "related_ids", "categories"):
        d[name] = tuple(d[name])
    return CatalogueProduct(**d)


class PgCatalogue:
    def __init__(self, db: asyncpg.Connection | asyncpg.Pool) -> None:
        self.db = db

    async def upsert(self, p: CatalogueProduct, at: datetime) -> bool:
        return bool(await self.db.fetchval(
            f"INSERT INTO catalogue ({_FIELDS}, event_time) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,"
            " false,$15) ON CONFLICT (store_id, product_id) DO UPDATE SET name = EXCLUDED.name,"
            " status = EXCLUDED.status, price = EXCLUDED.price, currency = EXCLUDED.currency,"
            " permalink = EXCLUDED.permalink, image = EXCLUDED.image, stock_status = EXCLUDED.stock_status,"
            " cross_sell_ids = EXCLUDED.cross_sell_ids, upsell_ids = EXCLUDED.upsell_ids,"
            " related_ids = EXCLUDED.related_ids, categories = EXCLUDED.categories,"
            " usage_period_days = EXCLUDED.usage_period_days, deleted = false, event_time = EXCLUDED.event_time"
            " WHERE catalogue.event_time <= EXCLUDED.event_time RETURNING 1",
            p.store_id, p.product_id, p.name, p.status, p.price, p.currency, p.permalink, p.image, p.stock_status,
            list(p.cross_sell_ids), list(p.upsell_ids), list(p.related_ids), list(p.categories),
            p.usage_period_days, at))

    async def delete(self, store_id: str, product_id: int, at: datetime) -> None:
        await self.db.execute(
            "INSERT INTO catalogue (store_id, product_id, name, status, deleted, event_time)"
            " VALUES ($1,$2,'','trash',true,$3) ON CONFLICT (store_id, product_id) DO UPDATE SET deleted = true,"
            " event_time = EXCLUDED.event_time WHERE catalogue.event_time <= EXCLUDED.event_time",
            store_id, product_id, at)

    async def get_many(self, store_id: str, product_ids: Iterable[int]) -> dict[int, CatalogueProduct]:
        rows = await self.db.fetch(f"SELECT {_FIELDS} FROM catalogue WHERE store_id = $1"
                                   " AND product_id = ANY($2::bigint[])", store_id, list(product_ids))
        return {r["product_id"]: _product(r) for r in rows}

    async def in_categories(self, store_id: str, categories: list[str], limit: int) -> list[CatalogueProduct]:
        """Buyable-looking products of any of `categories`, by product id (a stable order)."""
        rows = await self.db.fetch(
            f"SELECT {_FIELDS} FROM catalogue WHERE store_id = $1 AND categories && $2::text[] AND NOT deleted"
            " AND status = 'publish' ORDER BY product_id LIMIT $3", store_id, categories, limit)
        return [_product(r) for r in rows]


class PgMessageProducts:
    def __init__(self, db: asyncpg.Connection | asyncpg.Pool) -> None:
        self.db = db

    async def attach(self, message_id: str, *, store_id: str, customer_key: str, flow: str,
                     product_ids: list[int]) -> None:
        await self.db.execute(
            "INSERT INTO message_products (message_id, store_id, customer_key, flow, product_ids)"
            " VALUES ($1,$2,$3,$4,$5) ON CONFLICT (message_id) DO NOTHING",
            message_id, store_id, customer_key, flow, product_ids)

    async def of(self, message_id: str) -> list[int] | None:
        ids = await self.db.fetchval("SELECT product_ids FROM message_products WHERE message_id = $1", message_id)
        return None if ids is None else list(ids)

    async def pending_naming(self, customer_key: str, flow: str, product_ids: list[int]) -> list[str]:
        """Pending messages of `flow` to the customer that name any of `product_ids`."""
        rows = await self.db.fetch(
            "SELECT mp.message_id FROM message_products mp JOIN messages m USING (message_id)"
            " WHERE mp.customer_key = $1 AND mp.flow = $2 AND mp.product_ids && $3::bigint[]"
            " AND m.status = 'pending'", customer_key, flow, product_ids)
        return [r["message_id"] for r in rows]

    async def pending_of(self, customer_key: str, flow: str) -> list[str]:
        """The customer's pending messages of `flow` recorded here (e.g. a scheduled win-back)."""
        rows = await self.db.fetch(
            "SELECT mp.message_id FROM message_products mp JOIN messages m USING (message_id)"
            " WHERE mp.customer_key = $1 AND mp.flow = $2 AND m.status = 'pending'", customer_key, flow)
        return [r["message_id"] for r in rows]
