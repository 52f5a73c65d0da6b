"""When to ask for a review, and about what: pure rules."""
from __future__ import annotations

from datetime import datetime, timedelta


def due_at(completed_at: datetime, delay_days: int) -> datetime:
    return completed_at + timedelta(days=delay_days)


def reviewable_products(line_items: list[dict]) -> list[int]:
    """Distinct parent products of the order (a review is about the product, not the variation)."""
    seen: list[int] = []
    for li in line_items:
        pid = int(li.get("product_id") or 0)
        if pid and pid not in seen:
            seen.append(pid)
    return seen
