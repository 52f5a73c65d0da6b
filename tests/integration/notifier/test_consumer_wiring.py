"""The notifier as bootstrap wires it into the shared consumer loop (HANDLERS, NotifierUnitOfWork),
record by record against its real database: an order event becomes one intent (a first
order's welcome, an order put on hold), a redelivery none, an ignored type nothing, and a malformed order is dead-lettered on
its first attempt instead of being retried as if transient (the dead-letter producer is a
stand-in that records, so the real notifier.dlq stays clean)."""
from __future__ import annotations

from types import SimpleNamespace

import orjson

from services.notifier.adapters.unit_of_work import NotifierUnitOfWork
from services.notifier.bootstrap import MIGRATIONS, TOPICS
from services.notifier.handlers import HANDLERS
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from shared.events.envelope import Envelope, event_id, utcnow
from shared.kafka.consumer import ConsumerLoop
from tests.unit.notifier.orders import order_data


class RecordingProducer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, list]] = []

    async def send_and_wait(self, topic, value, key=None, headers=None):
        self.sent.append((topic, value, headers))


def _record(envelope: Envelope, offset: int) -> SimpleNamespace:
    return SimpleNamespace(value=envelope.to_bytes(), key=b"k", headers=[], topic="orders.v1", partition=0,
                           offset=offset)


def _envelope(uid: str, event_type: str, data: dict) -> Envelope:
    return Envelope(id=event_id("wiring", uid, event_type, data.get("order_id")), source=f"/stores/w{uid}",
                    type=event_type, subject="order/1", time=utcnow(), data=data)


async def test_records_through_the_loop(stack, uid):
    pool = await create_pool(stack.service_dsn("notifier"), 1, 3)
    await apply_migrations(pool, MIGRATIONS, "notifier")
    producer, group = RecordingProducer(), f"notifier-wiring-{uid}"
    loop = ConsumerLoop(service="notifier", topics=TOPICS, bootstrap=stack.bootstrap_servers(), pool=pool,
                        handlers=HANDLERS, unit_of_work=NotifierUnitOfWork, producer=producer, group=group,
                        max_attempts=3, backoff_base_s=0.0)
    key = f"w{uid}:c1"
    try:
        placed = _envelope(uid, "order.placed", order_data(f"w{uid}", 1, email=f"w-{uid}@example.com"))
        assert await loop.process(_record(placed, 0)) == "handled"
        assert await loop.process(_record(placed, 1)) == "duplicate"
        expired = _envelope(uid, "points.expired", {"store_id": f"w{uid}", "customer_key": key, "points": 5,
                                                    "expires_at": "2026-03-01T00:00:00Z"})
        assert await loop.process(_record(expired, 2)) == "ignored"
        on_hold = _envelope(uid, "order.on_hold", order_data(f"w{uid}", 4, "on-hold", email=f"w-{uid}@example.com"))
        assert await loop.process(_record(on_hold, 3)) == "handled"
        rows = await pool.fetch("SELECT template, subject, cause_event_id FROM messages WHERE customer_key = $1"
                                " ORDER BY created_at", key)
        assert [tuple(r) for r in rows] == [("order_welcome", "Welcome to our shop — your order #1", placed.id),
                                            ("order_on_hold", "Order #4: we're waiting for your payment", on_hold.id)]

        broken = order_data(f"w{uid}", 3)
        del broken["customer"]  # once a KeyError retried five times; now a poison message
        poison = _envelope(uid, "order.placed", broken)
        assert await loop.process(_record(poison, 4)) == "dead_lettered"
        [(topic, value, headers)] = producer.sent
        assert topic == "notifier.dlq" and orjson.loads(value)["id"] == poison.id
        assert dict(headers)["x-error-type"] == b"ValidationError" and dict(headers)["x-attempts"] == b"1"
        assert await pool.fetchval("SELECT count(*) FROM messages WHERE customer_key = $1", key) == 2
    finally:
        await pool.execute("DELETE FROM messages WHERE customer_key = $1", key)
        await pool.execute("DELETE FROM processed_events WHERE consumer = $1", group)
        await pool.close()
