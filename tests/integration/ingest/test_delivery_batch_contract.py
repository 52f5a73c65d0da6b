"""PgDeliveryBatch keeps the batch store's contract against the real PostgreSQL (its in-memory
twin runs the same suite in tests/unit/ingest)."""
from __future__ import annotations

from services.ingest.adapters.delivery_batch import PgDeliveryBatch
from tests.unit.ingest.delivery_batch_contract import check_delivery_batch_contract


async def test_pg_delivery_batch_keeps_the_contract(ingest, uid):
    async with ingest.pool.acquire() as conn:
        await check_delivery_batch_contract(PgDeliveryBatch(conn), f"contract-{uid}")
