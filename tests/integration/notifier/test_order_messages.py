"""The notifier's handlers against its real database: which order events become which message
intents, once per order where that's the promise (one thank-you, paid now or later). Each event
is handled as the consumer loop does it: a transaction, a NotifierUnitOfWork on its connection."""
from __future__ import annotations

from services.notifier import handlers
from services.notifier.adapters.unit_of_work import NotifierUnitOfWork
from services.notifier.bootstrap import MIGRATIONS
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from tests.unit.notifier.orders import order_data, order_event, refund


def _event(uid, type_, order_id, status, salt="", **extra):
    return order_event(type_, order_data(f"n{uid}", order_id, status, email=f"n-{uid}@example.com", **extra),
                       salt=f"{uid}{salt}")


async def _handle(pool, event):
    async with pool.acquire() as conn:
        async with conn.transaction():
            await handlers.HANDLERS[event.type](event, NotifierUnitOfWork(conn))


async def _templates(pool, uid):
    rows = await pool.fetch("SELECT template, subject FROM messages WHERE customer_key = $1 ORDER BY created_at",
                            f"n{uid}:c1")
    return [(r["template"], r["subject"]) for r in rows]


async def test_one_thank_you_per_order_whether_paid_at_once_or_later(stack, uid):
    pool = await create_pool(stack.service_dsn("notifier"), 1, 3)
    await apply_migrations(pool, MIGRATIONS, "notifier")
    try:
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
            await _handle(pool, _event(uid, "order.refunded", 1, "processing", salt=rid, refund=refund(rid, "5.00")))
        # A redelivered refund (same event id) records nothing more.
        await _handle(pool, _event(uid, "order.refunded", 1, "processing", salt=8, refund=refund(8, "5.00")))
        assert await _templates(pool, uid) == [
            ("order_thanks", "Thank you for your order #1"), ("order_thanks", "Thank you for your order #2"),
            ("order_cancelled", "Your order #4 was cancelled"), ("order_refunded", "We refunded 5.00 EUR for order #1"),
            ("order_refunded", "We refunded 5.00 EUR for order #1")]
        # Intents are not news: nothing reaches the outbox until the sender has sent.
        assert await pool.fetchval("SELECT count(*) FROM outbox WHERE key = $1", f"n{uid}:c1") == 0
    finally:
        # Leave no pending intents behind for the sender tests that share this database.
        await pool.execute("DELETE FROM messages WHERE customer_key = $1", f"n{uid}:c1")
        await pool.close()
