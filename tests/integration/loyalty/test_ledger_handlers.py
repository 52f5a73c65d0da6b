"""Loyalty's handlers against its real database: the balance in the ledger after each order event,
the loyalty.v1 events in the outbox, and no second effect from a repeated event."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import orjson

from services.loyalty import handlers
from services.loyalty.adapters.ledger import balance
from services.loyalty.bootstrap import MIGRATIONS
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from shared.events.envelope import Envelope, event_id

DEPS = handlers.Deps(points_per_unit=Decimal("1"))


def _event(uid: str, type_: str, order_id: int, **extra) -> Envelope:
    data = {"store_id": f"s{uid}", "order_id": order_id, "order_number": str(order_id), "currency": "EUR",
            "total": "110.00", "subtotal_after_discounts": "100.00",
            "customer": {"key": f"s{uid}:c7", "email": "x@example.com"}, "line_items": [], **extra}
    return Envelope(id=event_id(uid, order_id, type_, str(extra)), source=f"/stores/s{uid}", type=type_,
                    subject=f"order/{order_id}", time=datetime.now(timezone.utc), data=data)


async def _apply(pool, event: Envelope, fn) -> None:
    async with pool.acquire() as conn:
        async with conn.transaction():
            await fn(event, conn, DEPS)


async def test_points_follow_the_order(stack, uid):
    pool = await create_pool(stack.service_dsn("loyalty"), 1, 3)
    await apply_migrations(pool, MIGRATIONS, "loyalty")
    key = f"s{uid}:c7"
    paid = _event(uid, "order.paid", 1)
    await _apply(pool, paid, handlers.on_order_paid)
    await _apply(pool, paid, handlers.on_order_paid)  # a repeat writes nothing new (entry id = cause id)
    assert await balance(pool, key) == {"pending": 100, "available": 0}

    await _apply(pool, _event(uid, "order.refunded", 1, refund={"refund_id": 5, "amount": "11.00",
                                                                "is_full": False}), handlers.on_order_refunded)
    assert await balance(pool, key) == {"pending": 90, "available": 0}  # 10% of the money back → 10% of points

    await _apply(pool, _event(uid, "order.completed", 1), handlers.on_order_completed)
    assert await balance(pool, key) == {"pending": 0, "available": 90}

    await _apply(pool, _event(uid, "order.refunded", 1, refund={"refund_id": 6, "amount": "99.00",
                                                                "is_full": True}), handlers.on_order_refunded)
    assert await balance(pool, key) == {"pending": 0, "available": 0}

    # Proportional shares round down; the full refund takes what is left, not 1 point less.
    await _apply(pool, _event(uid, "order.paid", 3), handlers.on_order_paid)
    for n, (amount, full) in enumerate([("3.30", False), ("3.30", False), ("103.40", True)]):
        await _apply(pool, _event(uid, "order.refunded", 3, refund={"refund_id": 10 + n, "amount": amount,
                                                                    "is_full": full}), handlers.on_order_refunded)
    assert await balance(pool, key) == {"pending": 0, "available": 0}

    await _apply(pool, _event(uid, "order.paid", 2), handlers.on_order_paid)
    await _apply(pool, _event(uid, "order.cancelled", 2), handlers.on_order_cancelled)
    assert await balance(pool, key) == {"pending": 0, "available": 0}

    rows = await pool.fetch("SELECT payload FROM outbox WHERE key = $1 ORDER BY seq", key)
    types = [orjson.loads(r["payload"])["type"] for r in rows]
    assert types == ["points.pending", "points.reversed", "points.available", "points.reversed",
                     "points.pending", "points.reversed", "points.reversed", "points.reversed",
                     "points.pending", "points.reversed"]
    await pool.close()
