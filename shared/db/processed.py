"""Processed-event markers: (consumer, event id) inserted in the same transaction as a handler's
effects, so a redelivered event finds its marker and has no second effect."""
from __future__ import annotations

import asyncpg


class PgProcessedMarkers:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def mark(self, consumer: str, event_id: str, event_type: str) -> bool:
        """Insert the marker; False when this consumer already processed the event."""
        return bool(await self.conn.fetchval(
            "INSERT INTO processed_events (consumer, event_id, event_type) VALUES ($1, $2, $3)"
            " ON CONFLICT DO NOTHING RETURNING 1", consumer, event_id, event_type))
