"""What a customer submits on the review page, and the rules it must keep: stars 1–5 for products
of the order only, a title and a few words within bounds, a display name. Input is cleaned (control
characters dropped, whitespace trimmed) but never interpreted: HTML stays text and is escaped
wherever it is shown.

No review gating (16 CFR 465): the rules and the path are the same whatever the rating. A low
rating offers help *beside* the review form, never instead of it; the incentive (review.submitted)
is the same for every rating.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from shared.events.envelope import event_id

MAX_TITLE, MAX_TEXT, MAX_NAME, MAX_HELP = 120, 5000, 60, 2000
# At or below this rating the page offers help (and still the review form).
HELP_AT_OR_BELOW = 3
# Moderation states of a review.
PENDING, APPROVED, REJECTED, PUBLISHED, FAILED = "pending", "approved", "rejected", "published", "failed"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class InvalidInput(ValueError):
    """Refused input: `code` names the message the page shows (domain/page_text.py)."""

    def __init__(self, code: str, product_id: int | None = None) -> None:
        super().__init__(code)
        self.code, self.product_id = code, product_id


def clean(text: str | None, limit: int, *, multiline: bool = False) -> str:
    """Trimmed, without control characters (newlines kept where they belong), NFC; over `limit`
    characters is refused rather than cut."""
    s = unicodedata.normalize("NFC", (text or "").replace("\r\n", "\n").replace("\r", "\n"))
    s = _CONTROL.sub("", s)
    s = s.strip() if multiline else " ".join(s.split())
    if len(s) > limit:
        raise InvalidInput("too_long")
    return s


def rating(value: str | int | None, product_id: int | None = None) -> int:
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        raise InvalidInput("rating_required", product_id) from None
    if not 1 <= n <= 5:
        raise InvalidInput("rating_required", product_id)
    return n


def review_id(request_id: str, product_id: int) -> str:
    """One review per product of a request: a second submit of the same form finds it taken."""
    return event_id(request_id, product_id, "review")


def help_id(request_id: str) -> str:
    return event_id(request_id, "review.help")


def wants_help(ratings: dict[int, int]) -> bool:
    return bool(ratings) and min(ratings.values()) <= HELP_AT_OR_BELOW


@dataclass(frozen=True)
class Review:
    review_id: str
    request_id: str
    store_id: str
    order_id: int
    product_id: int
    customer_key: str
    rating: int
    title: str
    body: str
    display_name: str
    reviewer_email: str | None  # personal: WooCommerce wants it; erased on customer.erased
    photo: str | None  # file name in the photo store
    status: str
    created_at: datetime
    locale: str | None = None
    woo_review_id: int | None = None
    publish_error: str | None = None
    publish_attempts: int = 0
    published_at: datetime | None = None


@dataclass(frozen=True)
class HelpRequest:
    help_id: str
    request_id: str
    store_id: str
    order_id: int
    customer_key: str
    rating: int | None
    message: str  # personal: erased on customer.erased
    created_at: datetime
