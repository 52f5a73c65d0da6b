"""What the product flows say (pure): the template context of a cross-sell / upsell message and of
a replenishment reminder — each product's name, its price as the locale writes it (Babel), its
link (http(s) only) and image."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from babel import Locale

from services.notifier.domain.catalogue import CatalogueProduct
from services.notifier.domain.formatting import money
from services.notifier.domain.messages import store_context, web_link
from services.notifier.domain.store_settings import StoreSettings


def product_items(products: Sequence[CatalogueProduct], locale: Locale,
                  currency: str | None = None) -> list[dict[str, Any]]:
    return [{"id": p.product_id, "name": p.name, "price": money(p.price, p.currency or currency, locale),
             "url": web_link(p.permalink), "image": web_link(p.image)} for p in products]


def products_context(products: Sequence[CatalogueProduct], *, first_name: str | None, number: str | None,
                     store: StoreSettings, locale: Locale, currency: str | None = None) -> dict[str, Any]:
    return {"first_name": (first_name or "").strip() or None, "number": number,
            "products": product_items(products, locale, currency), "store": store_context(store)}
