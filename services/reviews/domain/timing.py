"""When to ask for a review, and about what: pure rules."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class TimingConfig:
    """The rules' settings, as handlers receive them in `tx.config` (bootstrap builds it from
    ReviewsSettings)."""
    request_delay_days: int = 7


def due_at(completed_at: datetime, delay_days: int) -> datetime:
    return completed_at + timedelta(days=delay_days)


def reviewable_products(product_ids: Iterable[int | None]) -> list[int]:
    """Distinct parent products of the order's lines, in order (a review is about the product, not
    the variation; 0 is WooCommerce's "no product", e.g. a deleted one)."""
    seen: list[int] = []
    for pid in product_ids:
        pid = int(pid or 0)
        if pid and pid not in seen:
            seen.append(pid)
    return seen
