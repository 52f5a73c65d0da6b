"""One contract for the ledger and its fake: MemoryLedger runs it in tests/unit/loyalty, PgLedger
against PostgreSQL in tests/integration/loyalty — so handler tests on the fake can be trusted.
All entries here are written at one moment (one transaction in PostgreSQL, a still clock in memory)."""
from __future__ import annotations


async def check_ledger_contract(ledger, store_id: str) -> None:
    key, other = f"{store_id}:c1", f"{store_id}:c2"

    async def add(entry_id: str, *, customer_key: str = key, order_id: int | None = 1, bucket: str = "pending",
                  points: int = 10, reason: str = "order.paid") -> bool:
        return await ledger.append(entry_id=f"{store_id}-{entry_id}", cause_event_id=f"cause-{entry_id}",
                                   customer_key=customer_key, store_id=store_id, order_id=order_id, bucket=bucket,
                                   points=points, reason=reason)

    assert await ledger.balance(key) == {"pending": 0, "available": 0}  # every bucket, even with no entry
    assert await ledger.entries(key) == []
    assert await ledger.order_points(store_id, 1, "pending") == 0
    assert await ledger.earned_for_order(store_id, 1) == 0

    assert await add("a", points=100) is True
    assert await add("a", points=999, bucket="available") is False  # a repeated entry id changes nothing
    assert await add("b", points=-100, reason="order.completed") is True
    assert await add("c", bucket="available", points=100, reason="order.completed") is True
    assert await add("d", bucket="available", points=-30, reason="order.refunded") is True
    assert await add("e", order_id=2, points=40) is True
    assert await add("f", customer_key=other, order_id=3, points=7) is True
    assert await add("g", order_id=None, bucket="available", points=5, reason="adjustment") is True

    assert await ledger.order_points(store_id, 1, "pending") == 0
    assert await ledger.order_points(store_id, 1, "available") == 70
    assert await ledger.order_points(store_id, 2, "pending") == 40
    assert await ledger.earned_for_order(store_id, 1) == 100  # only what order.paid wrote
    assert await ledger.earned_for_order(store_id, 2) == 40
    assert await ledger.balance(key) == {"pending": 40, "available": 75}
    assert await ledger.balance(other) == {"pending": 7, "available": 0}

    entries = await ledger.entries(key)
    assert [e.entry_id for e in entries] == [f"{store_id}-{x}" for x in "abcdeg"]  # same moment: by entry id
    first = entries[0]
    assert (first.cause_event_id, first.customer_key, first.store_id, first.order_id, first.bucket, first.points,
            first.reason) == ("cause-a", key, store_id, 1, "pending", 100, "order.paid")
    assert first.created_at.tzinfo is not None
    assert entries[-1].order_id is None
    assert [e.entry_id for e in await ledger.entries(key, limit=2)] == [f"{store_id}-a", f"{store_id}-b"]
