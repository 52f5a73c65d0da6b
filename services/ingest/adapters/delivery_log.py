"""PgDeliveryLog: the recorded deliveries, for support questions ("did delivery X arrive, what
became of order 123?"). Bodies stay in the database: only their size is read (they hold
personal data)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

_FIELDS = ("id, store_id, topic, resource_id, delivery_id, webhook_id, origin, outcome, events, received_at,"
           " octet_length(body) AS bytes")


@dataclass(frozen=True)
class DeliveryRecord:
    id: int
    store_id: str
    topic: str
    resource_id: str | None
    delivery_id: str | None
    webhook_id: str | None
    origin: str
    outcome: str
    events: int
    received_at: datetime
    bytes: int  # size of the body as received


class PgDeliveryLog:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def by_delivery_id(self, delivery_id: str, limit: int) -> list[DeliveryRecord]:
        rows = await self.pool.fetch(f"SELECT {_FIELDS} FROM deliveries WHERE delivery_id = $1"
                                     " ORDER BY id DESC LIMIT $2", delivery_id, limit)
        return [DeliveryRecord(**dict(r)) for r in rows]

    async def of_order(self, store_id: str, order_id: int, limit: int) -> list[DeliveryRecord]:
        """Newest first."""
        rows = await self.pool.fetch(
            f"SELECT {_FIELDS} FROM deliveries WHERE store_id = $1 AND resource = 'order' AND resource_id = $2"
            " ORDER BY id DESC LIMIT $3", store_id, str(order_id), limit)
        return [DeliveryRecord(**dict(r)) for r in rows]
