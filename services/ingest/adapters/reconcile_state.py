"""PgReconcileState: what reconciliation reads and writes besides the deliveries themselves — a
resource's last snapshot, the per-store cursors, the webhooks' health, and the advisory lock that
keeps the schedule to one ingest instance at a time. `deliveries()` lends a PgDeliveryBatch on
one pooled connection, for feeding what the REST API returned through the pipeline."""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import orjson

from services.ingest.adapters.delivery_batch import PgDeliveryBatch

SCHEDULE_LOCK = 727_003  # session advisory lock: one scheduled reconcile at a time across instances


class PgReconcileState:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def snapshot(self, store_id: str, resource: str, resource_id: str) -> dict | None:
        raw = await self.pool.fetchval("SELECT state FROM snapshots WHERE store_id = $1 AND resource = $2"
                                       " AND resource_id = $3", store_id, resource, resource_id)
        return orjson.loads(raw) if raw else None

    async def known_orders(self, store_id: str) -> set[str]:
        """Ids of the store's orders ingest knows and hasn't seen deleted for good."""
        rows = await self.pool.fetch("SELECT resource_id FROM snapshots WHERE store_id = $1 AND resource = 'order'"
                                     " AND (state->>'gone') IS DISTINCT FROM 'true'", store_id)
        return {r[0] for r in rows}

    async def cursor(self, store_id: str, resource: str) -> str | None:
        return await self.pool.fetchval(
            "SELECT cursor_gmt FROM reconcile_cursors WHERE store_id = $1 AND resource = $2", store_id, resource)

    async def save_cursor(self, store_id: str, resource: str, cursor_gmt: str) -> None:
        await self.pool.execute(
            "INSERT INTO reconcile_cursors (store_id, resource, cursor_gmt) VALUES ($1,$2,$3)"
            " ON CONFLICT (store_id, resource) DO UPDATE SET cursor_gmt = EXCLUDED.cursor_gmt,"
            " updated_at = now()", store_id, resource, cursor_gmt)

    async def record_webhooks(self, store_id: str, hooks: list[tuple[int, str, str]]) -> None:
        """The store's webhooks now, as (id, topic, status): upserted, and the ones gone forgotten."""
        async with self.pool.acquire() as conn, conn.transaction():
            for webhook_id, topic, status in hooks:
                await conn.execute(
                    "INSERT INTO webhook_health (store_id, webhook_id, topic, status) VALUES ($1,$2,$3,$4)"
                    " ON CONFLICT (store_id, webhook_id) DO UPDATE SET topic = EXCLUDED.topic,"
                    " status = EXCLUDED.status, checked_at = now()", store_id, webhook_id, topic, status)
            # A webhook deleted in WooCommerce must not stay "disabled" here forever.
            await conn.execute("DELETE FROM webhook_health WHERE store_id = $1 AND NOT webhook_id = ANY($2::bigint[])",
                               store_id, [h[0] for h in hooks])

    @asynccontextmanager
    async def deliveries(self) -> AsyncIterator[PgDeliveryBatch]:
        async with self.pool.acquire() as conn:
            yield PgDeliveryBatch(conn)

    @asynccontextmanager
    async def schedule_lock(self) -> AsyncIterator[bool]:
        """Whether this instance holds the schedule's lock for the block (False: another one has it)."""
        async with self.pool.acquire() as conn:
            held = await conn.fetchval("SELECT pg_try_advisory_lock($1)", SCHEDULE_LOCK)
            try:
                yield held
            finally:
                if held:
                    await conn.execute("SELECT pg_advisory_unlock($1)", SCHEDULE_LOCK)
