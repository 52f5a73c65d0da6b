"""The `data` of every reviews.v1 event (producer: reviews)."""
from __future__ import annotations

from pydantic import Field

from shared.events.orders import EventData, UtcDateTime


class ReviewRequest(EventData):
    """review.requested (the ask is due now) and review.reminder_due."""
    store_id: str
    customer_key: str
    request_id: str
    order_id: int
    product_ids: list[int]
    due_at: UtcDateTime
    # Where the customer writes the review (a signed link of the reviews service); None = not given.
    review_url: str | None = None


class ReviewSubmitted(EventData):
    store_id: str
    customer_key: str
    request_id: str
    product_id: int
    rating: int = Field(ge=1, le=5)
    verified: bool = True


class ReviewHelpRequested(EventData):
    """An unhappy customer asked for help instead of (or before) reviewing."""
    store_id: str
    customer_key: str
    request_id: str
    order_id: int
    rating: int | None = Field(default=None, ge=1, le=5)


class ReviewPublished(EventData):
    store_id: str
    customer_key: str
    request_id: str
    product_id: int
    woocommerce_review_id: int
