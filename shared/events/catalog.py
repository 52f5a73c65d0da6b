"""The `data` of every catalog.v1 event (producer: ingest). catalog.v1 is compacted and keyed by
"<store>:p<product_id>", so its latest record per product is the product's current state.

`related_ids` is deliberately absent: WooCommerce computes it from shared categories/tags and
shuffles it on every request, so it is noise, not state. Consumers that want "related" products
derive them from `categories`/`tags`, or use the merchant's `cross_sell_ids`/`upsell_ids`.
"""
from __future__ import annotations

from shared.events.orders import DecimalStr, EventData


class Term(EventData):
    id: int
    name: str
    slug: str


class ProductUpserted(EventData):
    store_id: str
    product_id: int
    parent_id: int | None = None  # set for variations (type "variation")
    type: str
    name: str
    sku: str | None = None
    status: str  # publish | draft | pending | private: consumers decide what to show
    price: DecimalStr | None = None  # None when WooCommerce sends "" (e.g. a variable product)
    regular_price: DecimalStr | None = None
    sale_price: DecimalStr | None = None
    currency: str | None = None  # not in WooCommerce's product payload; set when the store's is known
    stock_status: str | None = None
    categories: list[Term] = []
    tags: list[Term] = []
    cross_sell_ids: list[int] = []
    upsell_ids: list[int] = []
    permalink: str | None = None
    image: str | None = None  # URL of the main image


class ProductDeleted(EventData):
    store_id: str
    product_id: int
