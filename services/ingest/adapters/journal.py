"""PgJournal: everything ingest writes for one delivery, inside one transaction — the delivery
row (raw bytes), the resource's snapshot, and the outbox rows of the events it produced."""
from __future__ import annotations

import asyncpg
import orjson

from shared import outbox
from shared.events.envelope import Outgoing


class PgJournal:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def lock_resource(self, store_id: str, resource: str, resource_id: str) -> None:
        """Serialise deliveries about one resource so two concurrent ones diff in turn."""
        await self.conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                                f"{store_id}|{resource}|{resource_id}")

    async def snapshot(self, store_id: str, resource: str, resource_id: str) -> dict | None:
        raw = await self.conn.fetchval(
            "SELECT state FROM snapshots WHERE store_id = $1 AND resource = $2 AND resource_id = $3",
            store_id, resource, resource_id)
        return orjson.loads(raw) if raw else None

    async def save_snapshot(self, store_id: str, resource: str, resource_id: str, state: dict) -> None:
        await self.conn.execute(
            "INSERT INTO snapshots (store_id, resource, resource_id, state) VALUES ($1,$2,$3,$4::jsonb)"
            " ON CONFLICT (store_id, resource, resource_id) DO UPDATE SET state = EXCLUDED.state,"
            " updated_at = now()", store_id, resource, resource_id, orjson.dumps(state).decode())

    async def record_delivery(self, *, store_id: str, topic: str, resource: str, resource_id: str | None,
                              delivery_id: str | None, webhook_id: str | None, origin: str, body: bytes,
                              outcome: str, events: int) -> int:
        return await self.conn.fetchval(
            "INSERT INTO deliveries (store_id, topic, resource, resource_id, delivery_id, webhook_id,"
            " origin, body, outcome, events) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) RETURNING id",
            store_id, topic, resource, resource_id, delivery_id, webhook_id, origin, body, outcome, events)

    async def publish(self, events: list[Outgoing]) -> int:
        return await outbox.write(self.conn, events)
