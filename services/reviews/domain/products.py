"""What reviews knows of a product from catalog.v1: the name and image the ask shows, the
categories transit-time overrides look at."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProductInfo:
    store_id: str
    product_id: int
    name: str
    image_url: str | None = None
    permalink: str | None = None
    category_ids: tuple[int, ...] = ()
