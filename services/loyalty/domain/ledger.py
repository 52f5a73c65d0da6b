"""What the points ledger holds: append-only entries, each one effect of one event on a customer's
points in one bucket. A customer's balance per bucket is the sum of their entries."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

PENDING = "pending"  # earned, not yet spendable (the order may still be returned)
AVAILABLE = "available"
BUCKETS = (PENDING, AVAILABLE)


@dataclass(frozen=True)
class LedgerEntry:
    entry_id: str  # UUIDv5(cause event id, "ledger:<bucket>"): a replayed cause adds nothing
    cause_event_id: str
    customer_key: str
    store_id: str
    order_id: int | None
    bucket: str
    points: int  # signed
    reason: str
    created_at: datetime


def empty_balance() -> dict[str, int]:
    """Every bucket at zero: a customer without entries still has a balance to show."""
    return {bucket: 0 for bucket in BUCKETS}
