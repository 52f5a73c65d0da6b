"""ReviewsUnitOfWork: what reviews' handlers receive as `tx` — the review requests, the catalogue,
the customers' answers (`tx.reviews`) and the outbox bound to the consumer's one transaction, and the timing rules' settings. bootstrap.py
hands the shared consumer loop a factory of it (functools.partial with the config); the scheduler
and the review pages open their own transactions with `in_transaction(pool)`."""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from services.reviews.adapters.products import PgProducts
from services.reviews.adapters.review_requests import PgReviewRequests
from services.reviews.adapters.reviews import PgReviews
from services.reviews.adapters.store_settings import PgStoreSettings
from services.reviews.domain.timing import TimingConfig
from shared.db.unit_of_work import PgUnitOfWork


class ReviewsUnitOfWork(PgUnitOfWork):
    def __init__(self, conn: asyncpg.Connection, config: TimingConfig = TimingConfig(),
                 keep_display_name: bool = False) -> None:
        super().__init__(conn)
        self.requests = PgReviewRequests(conn)
        self.products = PgProducts(conn)
        self.reviews = PgReviews(conn)
        self.store_settings = PgStoreSettings(conn)  # each store's overrides of `config` and the rest
        self.config = config
        # customer.erased: whether published reviews keep the display name (the store's setting).
        self.keep_display_name = keep_display_name


@asynccontextmanager
async def in_transaction(pool: asyncpg.Pool, config: TimingConfig = TimingConfig()
                         ) -> AsyncIterator[ReviewsUnitOfWork]:
    """A connection from the pool, a transaction on it, and the unit of work bound to it: committed
    when the block ends, rolled back if it raises."""
    async with pool.acquire() as conn:
        async with conn.transaction():
            yield ReviewsUnitOfWork(conn, config)
