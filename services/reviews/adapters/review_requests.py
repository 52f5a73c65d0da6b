"""PgReviewRequests: pending review requests."""
from __future__ import annotations

from datetime import datetime

import asyncpg


class PgReviewRequests:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def add(self, *, request_id: str, cause_event_id: str, store_id: str, order_id: int,
                  customer_key: str, product_ids: list[int], due_at: datetime) -> bool:
        return bool(await self.conn.fetchval(
            "INSERT INTO review_requests (request_id, cause_event_id, store_id, order_id, customer_key,"
            " product_ids, due_at) VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING RETURNING 1",
            request_id, cause_event_id, store_id, order_id, customer_key, product_ids, due_at))

    async def cancel_for_order(self, store_id: str, order_id: int) -> None:
        await self.conn.execute("UPDATE review_requests SET status = 'cancelled' WHERE store_id = $1"
                                " AND order_id = $2 AND status = 'pending'", store_id, order_id)
