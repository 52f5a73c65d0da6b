"""MemoryDeliveryBatch keeps PgDeliveryBatch's contract (the same suite runs against PostgreSQL in
tests/integration/ingest/test_delivery_batch_contract.py)."""
from __future__ import annotations

from tests.support.fakes.ingest import MemoryDeliveryBatch
from tests.unit.ingest.delivery_batch_contract import check_delivery_batch_contract


async def test_memory_delivery_batch_keeps_the_contract(uid):
    await check_delivery_batch_contract(MemoryDeliveryBatch(), f"s{uid}")
