"""When to ask for a review, and about what: pure rules.

The ask comes `request_delay_days` after the goods arrived. Arrival is known when the store
reports it (an order status such as `delivered` from a tracking plugin: basis "delivered");
otherwise it is estimated from the dispatch (`order.completed` or `order.shipped`: basis
"completed" / "shipped") plus the expected transit time to the destination country, which a
product category may override (freight furniture travels longer than a parcel). Items shipped
separately push the ask to the later shipment's arrival, so one request per order asks about
everything once it has all arrived.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

COMPLETED, SHIPPED, DELIVERED = "completed", "shipped", "delivered"


@dataclass(frozen=True)
class TimingConfig:
    """The rules' settings, as handlers receive them in `tx.config` (bootstrap builds it from
    ReviewsSettings)."""
    request_delay_days: int = 7  # after arrival: time to unpack and use the goods
    reminder_days: int = 5  # one reminder this long after the ask without an answer; 0 = none
    default_transit_days: int = 7  # dispatch → arrival when the country has no figure of its own
    transit_days_by_country: Mapping[str, int] = field(default_factory=dict)  # ISO 3166 alpha-2 → days
    transit_days_by_category: Mapping[int, int] = field(default_factory=dict)  # category id → days (wins)
    # Order statuses that mean "arrived" (tracking plugins add e.g. wc-delivered; the prefix is optional).
    delivered_statuses: frozenset[str] = frozenset({"delivered"})


def due_at(completed_at: datetime, delay_days: int) -> datetime:
    return completed_at + timedelta(days=delay_days)


def transit_days(config: TimingConfig, country: str | None, category_ids: Iterable[int]) -> int:
    """The longest category override among the order's products, else the country's figure, else
    the default."""
    overrides = [config.transit_days_by_category[c] for c in category_ids if c in config.transit_days_by_category]
    if overrides:
        return max(overrides)
    return config.transit_days_by_country.get((country or "").upper(), config.default_transit_days)


def dispatch_due(config: TimingConfig, dispatched_at: datetime, country: str | None,
                 category_ids: Iterable[int]) -> datetime:
    """Expected arrival of a dispatch, plus the delay."""
    return dispatched_at + timedelta(days=transit_days(config, country, category_ids) + config.request_delay_days)


def delivered_due(config: TimingConfig, delivered_at: datetime) -> datetime:
    return delivered_at + timedelta(days=config.request_delay_days)


def is_delivered_status(config: TimingConfig, status: str | None) -> bool:
    s = (status or "").removeprefix("wc-")
    return s in {d.removeprefix("wc-") for d in config.delivered_statuses}


def reviewable_products(product_ids: Iterable[int | None]) -> list[int]:
    """Distinct parent products of the order's lines, in order (a review is about the product, not
    the variation; 0 is WooCommerce's "no product", e.g. a deleted one)."""
    seen: list[int] = []
    for pid in product_ids:
        pid = int(pid or 0)
        if pid and pid not in seen:
            seen.append(pid)
    return seen
