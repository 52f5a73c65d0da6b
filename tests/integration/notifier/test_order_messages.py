"""The notifier's handlers against its real database: which order events become which message
intents, once per order where that's the promise (one thank-you, paid now or later)."""
from __future__ import annotations

from datetime import datetime, timezone

from services.notifier import handlers
from services.notifier.bootstrap import MIGRATIONS
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from shared.events.envelope import Envelope, event_id


def _event(uid, type_, order_id, status, **extra) -> Envelope:
    data = {"store_id": f"n{uid}", "order_id": order_id, "order_number": str(order_id), "status": status,
            "currency": "EUR", "total": "20.00", "line_items": [{"name": "Mug", "quantity": 1, "total": "20.00"}],
            "customer": {"key": f"n{uid}:c1", "email": f"n-{uid}@example.com", "first_name": "Ana"}, **extra}
    return Envelope(id=event_id(uid, order_id, type_, status, str(extra)), source=f"/stores/n{uid}", type=type_,
                    subject=f"order/{order_id}", time=datetime.now(timezone.utc), data=data)


async def _handle(pool, event):
    async with pool.acquire() as conn:
        async with conn.transaction():
            await handlers.HANDLERS[event.type](event, conn)


async def _templates(pool, uid):
    rows = await pool.fetch("SELECT template, subject FROM messages WHERE customer_key = $1 ORDER BY created_at",
                            f"n{uid}:c1")
    return [(r["template"], r["subject"]) for r in rows]


async def test_one_thank_you_per_order_whether_paid_at_once_or_later(stack, uid):
    pool = await create_pool(stack.service_dsn("notifier"), 1, 3)
    await apply_migrations(pool, MIGRATIONS, "notifier")
    # Paid at checkout: placed (processing) and paid both arrive; one thank-you.
    await _handle(pool, _event(uid, "order.placed", 1, "processing"))
    await _handle(pool, _event(uid, "order.paid", 1, "processing"))
    # Bank transfer: placed while pending says nothing; the payment brings the thank-you.
    await _handle(pool, _event(uid, "order.placed", 2, "pending"))
    assert [t for t, _ in await _templates(pool, uid)] == ["order_thanks"]
    await _handle(pool, _event(uid, "order.paid", 2, "processing"))
    # Failed payment: nothing to thank for.
    await _handle(pool, _event(uid, "order.placed", 3, "failed"))
    # Bad news is said: a cancellation and each refund.
    await _handle(pool, _event(uid, "order.cancelled", 4, "cancelled"))
    for rid in (7, 8):
        await _handle(pool, _event(uid, "order.refunded", 1, "processing",
                                   refund={"refund_id": rid, "amount": "5.00", "is_full": False}))
    assert await _templates(pool, uid) == [
        ("order_thanks", "Thank you for your order #1"), ("order_thanks", "Thank you for your order #2"),
        ("order_cancelled", "Your order #4 was cancelled"), ("order_refunded", "We refunded 5.00 EUR for order #1"),
        ("order_refunded", "We refunded 5.00 EUR for order #1")]
    # Leave no pending intents behind for the sender tests that share this database.
    await pool.execute("DELETE FROM messages WHERE customer_key = $1", f"n{uid}:c1")
    await pool.close()
