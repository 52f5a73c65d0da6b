"""MemoryReviewRequests keeps PgReviewRequests' contract (the same suite runs against PostgreSQL
in tests/integration/reviews), and lists requests newest first."""
from __future__ import annotations

from datetime import datetime, timezone

from shared.testing import Clock
from tests.support.fakes.reviews import MemoryReviewRequests
from tests.unit.reviews.requests_contract import check_requests_contract


async def test_memory_requests_keep_the_contract(uid):
    await check_requests_contract(MemoryReviewRequests(now=Clock().now), f"s{uid}")


async def test_requests_come_newest_first():
    clock = Clock()
    requests = MemoryReviewRequests(now=clock.now)
    for order_id in (1, 2):
        await requests.add(request_id=f"r{order_id}", cause_event_id="c", store_id="s", order_id=order_id,
                           customer_key="s:c1", product_ids=[5], due_at=datetime(2026, 3, 8, tzinfo=timezone.utc))
        clock.advance(seconds=1)
    assert [r.request_id for r in await requests.for_customer("s:c1")] == ["r2", "r1"]
