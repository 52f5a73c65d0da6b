"""profiles.v1 and catalog.v1 data as their producers publish it, for the notifier's tests."""
from __future__ import annotations

from typing import Any


def profile_data(store: str, customer: str, *, products: list[int] = (), segment: str = "active",
                 affinity: dict[str, float] | None = None, replenishment: dict[str, str] | None = None,
                 orders: int = 1, **extra: Any) -> dict:
    return {"store_id": store, "customer_key": f"{store}:{customer}", "orders": orders, "lifetime_value": "42.50",
            "currency": "EUR", "segment": segment, "products": list(products),
            "categories": sorted(affinity or {}), "category_affinity": affinity or {},
            "replenishment_due": replenishment or {}, **extra}


def product_data(store: str, product_id: int, name: str, *, price: str = "9.90", stock: str = "instock",
                 status: str = "publish", cross: list[int] = (), up: list[int] = (), related: list[int] = (),
                 categories: list[str] = (), usage_days: int | None = None) -> dict:
    return {"store_id": store, "product_id": product_id, "type": "simple", "name": name, "status": status,
            "price": price, "currency": "EUR", "stock_status": stock,
            "categories": [{"id": i + 1, "name": c, "slug": c.lower()} for i, c in enumerate(categories)],
            "cross_sell_ids": list(cross), "upsell_ids": list(up), "related_ids": list(related),
            "usage_period_days": usage_days, "permalink": f"https://{store}.example/p/{product_id}",
            "image": f"https://{store}.example/img/{product_id}.jpg"}
