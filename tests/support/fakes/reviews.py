"""MemoryReviewRequests: reviews' PgReviewRequests in memory, with the same async methods and the
same rules — a request whose id or whose (store, order) is already there is ignored (ON CONFLICT
DO NOTHING on both unique keys), cancelling touches only a pending request, listings come newest
first.

    tx = InMemoryUnitOfWork(requests=MemoryReviewRequests(), config=TimingConfig())
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from shared.events.envelope import utcnow

if TYPE_CHECKING:
    from services.reviews.domain.review_requests import ReviewRequestRecord


class MemoryReviewRequests:
    def __init__(self, now: Callable[[], datetime] = utcnow) -> None:
        """`now` stamps `created_at` (PostgreSQL's now()); pass a Clock's `now` to control it."""
        self.now = now
        self.rows: list[ReviewRequestRecord] = []

    async def add(self, *, request_id: str, cause_event_id: str, store_id: str, order_id: int,
                  customer_key: str, product_ids: list[int], due_at: datetime) -> bool:
        # Imported here, not at module level: shared/ must not need services/ at import time.
        from services.reviews.domain.review_requests import PENDING, ReviewRequestRecord

        if any(r.request_id == request_id or (r.store_id, r.order_id) == (store_id, order_id) for r in self.rows):
            return False
        self.rows.append(ReviewRequestRecord(
            request_id=request_id, cause_event_id=cause_event_id, store_id=store_id, order_id=order_id,
            customer_key=customer_key, product_ids=list(product_ids), status=PENDING, due_at=due_at,
            created_at=self.now()))
        return True

    async def cancel_for_order(self, store_id: str, order_id: int) -> None:
        from services.reviews.domain.review_requests import CANCELLED, PENDING

        self.rows = [replace(r, status=CANCELLED)
                     if (r.store_id, r.order_id) == (store_id, order_id) and r.status == PENDING else r
                     for r in self.rows]

    async def for_customer(self, customer_key: str, limit: int = 200) -> list[ReviewRequestRecord]:
        mine = [r for r in reversed(self.rows) if r.customer_key == customer_key]  # newest added first on ties
        return sorted(mine, key=lambda r: r.created_at, reverse=True)[:limit]
