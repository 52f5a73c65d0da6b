"""Reviews metrics (consumer and outbox metrics come from shared/metrics.py). Labels: the store
only — never a product, order or customer (bounded label sets). Counted after the transaction
that did the work committed."""
from __future__ import annotations

from functools import lru_cache

from prometheus_client import Counter, Histogram


class ReviewsMetrics:
    def __init__(self) -> None:
        self.requests_sent = Counter("reviews_requests_sent_total", "Review asks sent (review.requested)", ["store"])
        self.reminders_sent = Counter("reviews_reminders_sent_total", "Reminders sent (review.reminder_due)",
                                      ["store"])
        self.requests_skipped = Counter("reviews_requests_skipped_total",
                                        "Asks not sent: every product asked about before", ["store"])
        self.reviews_submitted = Counter("reviews_submitted_total", "Reviews submitted (review.submitted)", ["store"])
        self.ratings = Histogram("reviews_rating", "Stars of submitted reviews", ["store"],
                                 buckets=(1, 2, 3, 4, 5))
        self.reviews_published = Counter("reviews_published_total", "Reviews the store accepted (review.published)",
                                         ["store"])
        self.time_to_review = Histogram("reviews_time_to_review_seconds", "From the ask to the review", ["store"],
                                        buckets=(3600, 6 * 3600, 86400, 3 * 86400, 7 * 86400, 14 * 86400, 30 * 86400))
        self.help_requests = Counter("reviews_help_requests_total", "Requests for help (review.help_requested)",
                                     ["store"])


@lru_cache(maxsize=1)
def reviews_metrics() -> ReviewsMetrics:
    return ReviewsMetrics()
