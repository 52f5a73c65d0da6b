"""PgOrderState: the latest known status of each order (`order_state`) and its last event's data.
Scheduled messages are cancelled against it and re-checked at send time (`still_fits`); the API
previews a real order from it. An older event arriving late never overwrites a newer one.
tests/support/fakes/notifier.py's MemoryOrderState is its in-memory twin.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import asyncpg


class PgOrderState:
    def __init__(self, db: asyncpg.Connection | asyncpg.Pool) -> None:
        self.db = db

    async def track(self, *, store_id: str, order_id: int, customer_key: str, status: str, event_time: datetime,
                    data: dict[str, Any] | None) -> tuple[bool, str]:
        """Record an order event (`data`: its data, None keeps what was known); (whether the order
        is new to the notifier, its latest status)."""
        row = await self.db.fetchrow(
            "INSERT INTO order_state (store_id, order_id, customer_key, status, event_time, last_event)"
            " VALUES ($1,$2,$3,$4,$5,$6::jsonb) ON CONFLICT (store_id, order_id) DO UPDATE SET"
            " status = EXCLUDED.status, event_time = EXCLUDED.event_time,"
            " last_event = coalesce(EXCLUDED.last_event, order_state.last_event),"
            " customer_key = EXCLUDED.customer_key, updated_at = now()"
            " WHERE order_state.event_time <= EXCLUDED.event_time"
            " RETURNING (xmax = 0) AS inserted, status",
            store_id, order_id, customer_key, status, event_time, None if data is None else json.dumps(data, default=str))
        if row is not None:
            return bool(row["inserted"]), row["status"]
        return False, await self.status(store_id, order_id) or status

    async def status(self, store_id: str, order_id: int) -> str | None:
        return await self.db.fetchval(
            "SELECT status FROM order_state WHERE store_id = $1 AND order_id = $2", store_id, order_id)

    async def last_event(self, store_id: str, order_id: int) -> dict[str, Any] | None:
        raw = await self.db.fetchval(
            "SELECT last_event::text FROM order_state WHERE store_id = $1 AND order_id = $2", store_id, order_id)
        return json.loads(raw) if raw else None
