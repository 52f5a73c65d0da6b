"""What a review request is: one per completed order, asking about its products once it is due;
cancelled when the order is sent back before then."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

PENDING = "pending"
CANCELLED = "cancelled"


@dataclass(frozen=True)
class ReviewRequestRecord:
    request_id: str  # UUIDv5(order.completed event id, "review.request"): a replay asks nothing twice
    cause_event_id: str
    store_id: str
    order_id: int
    customer_key: str
    product_ids: list[int]
    status: str  # PENDING | CANCELLED
    due_at: datetime
    created_at: datetime
