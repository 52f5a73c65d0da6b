"""Input ranges at the edge (issue 10, item 3), with real signed deliveries against the real stack.

What ingest publishes must fit what every consumer stores. A value no consumer could store is
refused before the 200 with a clear 400 (`value_out_of_range`) and nothing of the delivery is
stored: integers beyond 64-bit signed (ids of 2^63 + 7, a quantity of 1e20), money beyond
|amount| < 10^12 (a price or a total of 1e20), a date outside 1970-2200 (year 9999). Control
characters in text (a NUL in a name) are stripped instead, and the order then reaches every
consumer intact: its events, read back from Kafka's orders.v1, are handled — not dead-lettered —
by the notifier, loyalty and reviews with their real handlers and databases, whose tables hold it.
"""
from __future__ import annotations

from decimal import Decimal
from functools import partial
from types import SimpleNamespace

import asyncpg
import orjson
import pytest

from services.loyalty.adapters.unit_of_work import LoyaltyUnitOfWork
from services.loyalty.bootstrap import MIGRATIONS as LOYALTY_MIGRATIONS
from services.loyalty.handlers import HANDLERS as LOYALTY
from services.notifier.adapters.unit_of_work import NotifierUnitOfWork
from services.notifier.bootstrap import MIGRATIONS as NOTIFIER_MIGRATIONS
from services.notifier.handlers import HANDLERS as NOTIFIER
from services.reviews.adapters.unit_of_work import ReviewsUnitOfWork
from services.reviews.bootstrap import MIGRATIONS as REVIEWS_MIGRATIONS
from services.reviews.domain.timing import TimingConfig
from services.reviews.handlers import HANDLERS as REVIEWS
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from shared.events.envelope import Envelope
from shared.events.registry import ORDERS
from shared.kafka.consumer import ConsumerLoop
from tests.support.kafka_tail import TopicTail
from tests.support.woo import deliver, order

HOOK = "/webhooks/woocommerce"
BEYOND_INT64 = 2**63 + 7


def _send(ingest, body: dict, topic: str = "order.created"):
    return deliver(ingest.http, HOOK, source=ingest.source, secret=ingest.secret, topic=topic, body=body)


def _with(uid: str, change) -> dict:
    o = order(uid, status="completed")
    change(o)
    return o


def _set(path: tuple, value):
    def change(o: dict) -> None:
        target = o
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
    return change


ABSURD = {
    "quantity 1e20": (_set(("line_items", 0, "quantity"), 1e20), "line_items[0].quantity"),
    "quantity 10^30": (_set(("line_items", 0, "quantity"), 1e30), "line_items[0].quantity"),
    "line total 1e20": (_set(("line_items", 0, "total"), "1e20"), "line_items[0].total"),
    "order total 1e20": (_set(("total",), "100000000000000000000.00"), "total"),
    "order id 2^63+7": (_set(("id",), BEYOND_INT64), "order_id"),
    "product id 2^63+7": (_set(("line_items", 0, "product_id"), BEYOND_INT64), "line_items[0].product_id"),
    "customer id 2^63+7": (_set(("customer_id",), BEYOND_INT64), "customer.id"),
    "created in year 9999": (_set(("date_created_gmt",), "9999-01-01T00:00:00"), "date_created_gmt"),
    "paid in year 9999": (_set(("date_paid_gmt",), "9999-12-31T23:59:59"), "date_paid_gmt"),
    "modified in 1969": (_set(("date_modified_gmt",), "1969-12-31T23:59:59"), "date_modified_gmt"),
}


@pytest.mark.parametrize("case", list(ABSURD))
async def test_a_value_no_consumer_could_store_is_refused_at_the_edge(ingest, uid, case):
    change, named = ABSURD[case]
    o = _with(uid, change)
    r = await _send(ingest, o)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "value_out_of_range" and named in r.json()["message"], r.json()
    assert await ingest.deliveries() == []
    assert await ingest.pool.fetchval("SELECT count(*) FROM outbox WHERE source = $1", f"/stores/{ingest.store_id}") == 0
    assert await ingest.pool.fetchval("SELECT count(*) FROM snapshots WHERE store_id = $1", ingest.store_id) == 0


class _RecordingDlq:
    """Stands in for the dead-letter producer: the real <service>.dlq stays clean."""

    def __init__(self) -> None:
        self.sent: list = []

    async def send_and_wait(self, topic, value, key=None, headers=None):
        self.sent.append((topic, value, dict(headers or [])))


CONSUMERS = {
    "notifier": (NOTIFIER_MIGRATIONS, NOTIFIER, NotifierUnitOfWork),
    "loyalty": (LOYALTY_MIGRATIONS, LOYALTY, LoyaltyUnitOfWork),  # default rules: 1 point per USD
    "reviews": (REVIEWS_MIGRATIONS, REVIEWS, partial(ReviewsUnitOfWork, config=TimingConfig(request_delay_days=7))),
}


@pytest.fixture
async def consumers(stack, uid):
    """Each consuming service's real consumer loop (handlers, unit of work, database), fed record by
    record; yields {service: (loop, pool, dlq)}."""
    made = {}
    try:
        for name, (migrations, handlers, unit_of_work) in CONSUMERS.items():
            pool = await create_pool(stack.service_dsn(name), 1, 3)
            await apply_migrations(pool, migrations, name)
            dlq = _RecordingDlq()
            loop = ConsumerLoop(service=name, topics=[ORDERS.name], bootstrap=stack.bootstrap_servers(), pool=pool,
                                handlers=handlers, unit_of_work=unit_of_work, producer=dlq,
                                group=f"{name}-ranges-{uid}", max_attempts=5, backoff_base_s=0.0)
            made[name] = (loop, pool, dlq)
        yield made
    finally:
        for loop, pool, _ in made.values():
            await pool.execute("DELETE FROM processed_events WHERE consumer = $1", loop.group)
            await pool.close()


async def test_control_characters_are_stripped_and_the_order_reaches_every_consumer(ingest, consumers, stack, uid):
    o = order(uid, status="completed")
    o["billing"]["first_name"] = "An\u0000n\u0007e\u009b"  # NUL, BEL, a C1 control
    o["line_items"][0]["name"] = "Wool\u0000 hat\ttwo\nlines"  # tab and newline stay
    tail = await TopicTail.at_end(stack.bootstrap_servers(), ORDERS.name)
    try:
        r = await _send(ingest, o)
        assert r.status_code == 200 and r.json() == {"outcome": "applied", "events": 3}, r.text
        source = f"/stores/{ingest.store_id}"
        records = await tail.collect(lambda rec: Envelope.from_bytes(rec.value).source == source, expect=3)
    finally:
        await tail.close()
    envelopes = [Envelope.from_bytes(rec.value) for rec in records]
    assert [e.type for e in envelopes] == ["order.placed", "order.paid", "order.completed"]
    for e in envelopes:
        assert e.data["customer"]["first_name"] == "Anne"
        assert e.data["line_items"][0]["name"] == "Wool hat\ttwo\nlines"
    [d] = await ingest.deliveries()
    assert b"\\u0000" in d["body"]  # the delivery is kept as received

    for name, (loop, _, dlq) in consumers.items():
        outcomes = [await loop.process(rec) for rec in records]
        assert "dead_lettered" not in outcomes and dlq.sent == [], (name, outcomes, dlq.sent)
    key = envelopes[0].data["customer"]["key"]
    notifier_pool, loyalty_pool, reviews_pool = (consumers[n][1] for n in ("notifier", "loyalty", "reviews"))
    try:
        bodies = await notifier_pool.fetch("SELECT body_text FROM messages WHERE customer_key = $1", key)
        assert bodies and all("\x00" not in b["body_text"] for b in bodies)
        assert any("Anne" in b["body_text"] for b in bodies)
        assert await loyalty_pool.fetchval("SELECT sum(points) FROM ledger WHERE customer_key = $1", key) > 0
        assert await reviews_pool.fetchval("SELECT count(*) FROM review_requests WHERE customer_key = $1", key) == 1
    finally:
        await notifier_pool.execute("DELETE FROM messages WHERE customer_key = $1", key)
        await loyalty_pool.execute("DELETE FROM ledger WHERE customer_key = $1", key)
        await reviews_pool.execute("DELETE FROM review_requests WHERE customer_key = $1", key)


async def test_a_value_postgresql_refuses_reaching_a_consumer_is_dead_lettered_on_its_first_attempt(
        ingest, consumers, stack, uid):
    """The consumers' own safety net, for an event that did not come through this ingest (an older
    producer, a replayed DLQ record): the notifier's database refuses the NUL (asyncpg.DataError),
    and the shared loop dead-letters it at once instead of retrying it five times."""
    o = order(uid, status="completed")
    r = await _send(ingest, o)
    assert r.status_code == 200
    [placed] = [orjson.loads(row["payload"]) for row in await ingest.pool.fetch(
        "SELECT payload FROM outbox WHERE source = $1 AND event_type = 'order.placed'", f"/stores/{ingest.store_id}")]
    placed["id"] = f"{placed['id']}-nul"
    placed["data"]["customer"]["first_name"] = "An\u0000n"
    record = SimpleNamespace(value=orjson.dumps(placed), key=b"k", headers=[], topic=ORDERS.name, partition=0,
                             offset=0)
    loop, pool, dlq = consumers["notifier"]
    assert await loop.process(record) == "dead_lettered"
    [(topic, _, headers)] = dlq.sent
    assert topic == "notifier.dlq" and headers["x-attempts"] == b"1"
    assert issubclass(getattr(asyncpg.exceptions, headers["x-error-type"].decode()), asyncpg.DataError)
    assert await pool.fetchval("SELECT count(*) FROM messages WHERE cause_event_id = $1", placed["id"]) == 0
