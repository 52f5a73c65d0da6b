"""Publishing a review to its WooCommerce store: what is posted, which refusals are worth another
try, and when.

The body is what `POST /wp-json/wc/v3/products/reviews` takes: product_id, review, reviewer,
reviewer_email, rating, verified: true (the review comes from a buyer's order). WooCommerce has no
title field: the title leads the text on its own line. A store that rewards reviews (loyalty's
bonus, a coupon) sets `incentive_note`, which is added to every review it publishes — the same for
every rating.

Temporary: no answer at all (timeout, connection refused), 408/425/429 and 5xx. Anything else
(the product is gone, the content refused, credentials wrong) is recorded with its reason and not
retried; it shows in the moderation queue as failed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.reviews.domain.reviews import Review


@dataclass(frozen=True)
class PublishConfig:
    max_attempts: int = 8
    backoff_base_s: float = 60.0
    backoff_max_s: float = 6 * 3600.0
    lease_s: float = 120.0  # a claimed review is left alone by other instances this long
    incentive_note: str | None = None


class PublishRefused(Exception):
    """The store (or the way to it) refused: `temporary` decides a retry; `reason` is recorded."""

    def __init__(self, reason: str, *, temporary: bool, status: int | None = None, code: str | None = None) -> None:
        super().__init__(reason)
        self.reason, self.temporary, self.status, self.code = reason, temporary, status, code


def is_temporary(status: int | None) -> bool:
    return status is None or status in (408, 425, 429) or status >= 500


def review_text(review: Review, config: PublishConfig) -> str:
    text = f"{review.title}\n\n{review.body}" if review.title else review.body
    return f"{text}\n\n{config.incentive_note}" if config.incentive_note else text


def woo_body(review: Review, config: PublishConfig) -> dict:
    return {"product_id": review.product_id, "review": review_text(review, config),
            "reviewer": review.display_name or "Customer", "reviewer_email": review.reviewer_email,
            "rating": review.rating, "verified": True}


def retry_at(now: datetime, attempts: int, config: PublishConfig) -> datetime:
    delay = min(config.backoff_base_s * 2 ** max(attempts - 1, 0), config.backoff_max_s)
    return now + timedelta(seconds=delay)


def same_review(existing: dict, body: dict) -> bool:
    """A review already in the store that is this one (a post whose answer was lost): same product,
    same reviewer email and the same text (WooCommerce may wrap it in <p>)."""
    text = str(existing.get("review") or "")
    plain = text.replace("<p>", "").replace("</p>", "").replace("<br />", "").replace("\n", "").strip()
    wanted = body["review"].replace("\n", "").strip()
    return (existing.get("product_id") == body["product_id"]
            and str(existing.get("reviewer_email", "")).lower() == str(body["reviewer_email"]).lower()
            and plain == wanted)
