"""The `data` of every catalog.v1 event (producer: ingest). catalog.v1 is compacted and keyed by
"<store>:p<product_id>", so its latest record per product is the product's current state.

`related_ids` is what WooCommerce listed with the product's last real change (sorted): WooCommerce
computes it from shared categories/tags and picks a new random few on every request, so a change
of related_ids alone is not news (ingest publishes no event for it). Prefer the merchant's own
`cross_sell_ids`/`upsell_ids`; use related_ids after them.
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
    related_ids: list[int] = []
    # Days one unit lasts (product meta `_aftercart_usage_period_days`), for replenishment reminders.
    usage_period_days: int | None = None
    permalink: str | None = None
    image: str | None = None  # URL of the main image


class ProductDeleted(EventData):
    store_id: str
    product_id: int
