"""One contract for the review requests and their fake: MemoryReviewRequests runs it in
tests/unit/reviews, PgReviewRequests against PostgreSQL in tests/integration/reviews — so handler
tests on the fake can be trusted. All requests here are written at one moment."""
from __future__ import annotations

from datetime import datetime, timezone


async def check_requests_contract(requests, store_id: str) -> None:
    key, other = f"{store_id}:c1", f"{store_id}:c2"
    due = datetime(2026, 3, 8, 10, tzinfo=timezone.utc)

    async def add(request_id: str, order_id: int, *, customer_key: str = key, product_ids=(5, 9)) -> bool:
        return await requests.add(request_id=f"{store_id}-{request_id}", cause_event_id=f"cause-{request_id}",
                                  store_id=store_id, order_id=order_id, customer_key=customer_key,
                                  product_ids=list(product_ids), due_at=due)

    assert await requests.for_customer(key) == []
    assert await add("a", 1) is True
    assert await add("a", 2) is False  # a repeated request id is ignored
    assert await add("b", 1) is False  # so is a second request for the same order
    assert await add("c", 2, product_ids=[7]) is True
    assert await add("d", 3, customer_key=other) is True

    listed = await requests.for_customer(key)
    assert sorted(r.request_id for r in listed) == [f"{store_id}-a", f"{store_id}-c"]
    a = next(r for r in listed if r.request_id == f"{store_id}-a")
    assert (a.cause_event_id, a.store_id, a.order_id, a.customer_key, a.product_ids, a.status, a.due_at) == (
        "cause-a", store_id, 1, key, [5, 9], "pending", due)
    assert a.created_at.tzinfo is not None
    assert len(await requests.for_customer(key, limit=1)) == 1

    await requests.cancel_for_order(store_id, 1)
    await requests.cancel_for_order(store_id, 1)  # cancelling again changes nothing
    await requests.cancel_for_order(store_id, 99)  # an order without a request: nothing to cancel
    status = {r.order_id: r.status for r in await requests.for_customer(key)}
    assert status == {1: "cancelled", 2: "pending"}
    assert [r.status for r in await requests.for_customer(other)] == ["pending"]
