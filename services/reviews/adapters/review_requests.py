"""PgReviewRequests: review requests in PostgreSQL — the writes the handlers make (bound to the
consumer's transaction) and the listing the API serves (bound to the pool).
tests/support/fakes/reviews.py's MemoryReviewRequests is its in-memory twin."""
from __future__ import annotations

from datetime import datetime

import asyncpg

from services.reviews.domain.review_requests import ReviewRequestRecord

# Connection (a unit of work's transaction) or pool (the API's reads): both answer fetch/fetchval.
Executor = asyncpg.Connection | asyncpg.Pool


class PgReviewRequests:
    def __init__(self, db: Executor) -> None:
        self.db = db

    async def add(self, *, request_id: str, cause_event_id: str, store_id: str, order_id: int,
                  customer_key: str, product_ids: list[int], due_at: datetime) -> bool:
        """A pending request; False when its id or its order already has one."""
        return bool(await self.db.fetchval(
            "INSERT INTO review_requests (request_id, cause_event_id, store_id, order_id, customer_key,"
            " product_ids, due_at) VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING RETURNING 1",
            request_id, cause_event_id, store_id, order_id, customer_key, product_ids, due_at))

    async def cancel_for_order(self, store_id: str, order_id: int) -> None:
        """Cancel the order's request if it is still pending."""
        await self.db.execute("UPDATE review_requests SET status = 'cancelled' WHERE store_id = $1"
                              " AND order_id = $2 AND status = 'pending'", store_id, order_id)

    async def for_customer(self, customer_key: str, limit: int = 200) -> list[ReviewRequestRecord]:
        """The customer's requests, newest first."""
        rows = await self.db.fetch(
            "SELECT request_id, cause_event_id, store_id, order_id, customer_key, product_ids, status, due_at,"
            " created_at FROM review_requests WHERE customer_key = $1 ORDER BY created_at DESC LIMIT $2",
            customer_key, limit)
        return [ReviewRequestRecord(**dict(r)) for r in rows]
