"""ReviewsUnitOfWork: what reviews' handlers receive as `tx` — the review requests bound to the
consumer's one transaction, and the timing rules' settings. bootstrap.py hands the shared consumer
loop a factory of it (functools.partial with the config). Reviews publishes nothing yet: its
`tx.outbox` (from PgUnitOfWork) stays unused and no relay runs."""
from __future__ import annotations

import asyncpg

from services.reviews.adapters.review_requests import PgReviewRequests
from services.reviews.domain.timing import TimingConfig
from shared.db.unit_of_work import PgUnitOfWork


class ReviewsUnitOfWork(PgUnitOfWork):
    def __init__(self, conn: asyncpg.Connection, config: TimingConfig = TimingConfig()) -> None:
        super().__init__(conn)
        self.requests = PgReviewRequests(conn)
        self.config = config
