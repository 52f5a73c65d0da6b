"""The `data` of every reviews.v1 event (producer: reviews)."""
from __future__ import annotations

from pydantic import Field

from shared.events.orders import EventData, UtcDateTime


class ReviewItem(EventData):
    """A product the ask is about, as the email shows it."""
    product_id: int
    name: str
    image_url: str | None = None


class ReviewRequest(EventData):
    """review.requested (the ask is due now) and review.reminder_due. `review_url` is the signed,
    expiring link to the review page (it names only the request, no personal data)."""
    store_id: str
    customer_key: str
    request_id: str
    order_id: int
    product_ids: list[int]
    due_at: UtcDateTime
    # Where the customer writes the review (a signed link of the reviews service); None = not given.
    review_url: str | None = None
    link_expires_at: UtcDateTime | None = None
    items: list[ReviewItem] = []
    order_number: str | None = None
    locale: str | None = None  # the order's locale when the store sent it (the page uses it too)


class ReviewSubmitted(EventData):
    store_id: str
    customer_key: str
    request_id: str
    product_id: int
    rating: int = Field(ge=1, le=5)
    verified: bool = True
    # Optional, added with the review page: which review, of which order, in which language.
    review_id: str | None = None
    order_id: int | None = None
    has_photo: bool = False
    locale: str | None = None


class ReviewHelpRequested(EventData):
    """An unhappy customer asked for help instead of (or before) reviewing."""
    store_id: str
    customer_key: str
    request_id: str
    order_id: int
    rating: int | None = Field(default=None, ge=1, le=5)
    # Optional, added with the review page. `message` is what the customer wrote for the store's
    # support (the notifier forwards it there and acknowledges the customer); reviews erases its
    # own copy on customer.erased.
    help_id: str | None = None
    message: str | None = None
    product_ids: list[int] = []
    order_number: str | None = None
    locale: str | None = None


class ReviewPublished(EventData):
    store_id: str
    customer_key: str
    request_id: str
    product_id: int
    woocommerce_review_id: int
