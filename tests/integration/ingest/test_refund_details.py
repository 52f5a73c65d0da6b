"""A webhook's refund reaches Kafka with its lines (issue 15 point 4), against the store simulator
over real HTTP, ingest's real PostgreSQL and Kafka: the webhook is answered at once (its events
held), the refund-details worker fetches GET /orders/<id>/refunds/<rid> and publishes the order's
events in order; with the store unreachable they go out without the lines after the bounded wait,
once."""
from __future__ import annotations

import pytest

from shared.events.envelope import Envelope
from shared.events.registry import ORDERS
from tests.integration.ingest.conftest import TOKEN, closed_port
from tests.support.kafka_tail import TopicTail
from tests.support.woo import deliver

HOOK = "/webhooks/woocommerce"
WAIT_S = 3.0


@pytest.fixture
def ingest_overrides() -> dict:
    return {"refund_details_wait_s": WAIT_S, "refund_details_poll_s": 0.2}


async def _webhook(ingest, sim, topic: str, order_id: int) -> dict:
    r = await deliver(ingest.http, HOOK, source=ingest.source, secret=ingest.secret, topic=topic,
                      body=sim.store.delivery_payload(topic, order_id))
    assert r.status_code == 200, r.text
    return r.json()


def _refunded_order(sim, uid: str) -> tuple[dict, dict, dict]:
    s = sim.store
    mug = s.create_product("Mug", "12.00", sku=f"MUG-{uid}")
    tee = s.create_product("Tee", "20.00", sku=f"TEE-{uid}")
    order = s.create_order([(mug["id"], 1), (tee["id"], 2)], billing={"email": f"refund-{uid}@example.com"})
    s.pay_order(order["id"])
    line = next(li for li in order["line_items"] if li["product_id"] == tee["id"])
    return order, line, tee


async def _published(stack, ingest, tail, order_id: int, expect: int, timeout: float = 30.0) -> list[Envelope]:
    subject = f"order/{order_id}"
    records = await tail.collect(lambda rec: Envelope.from_bytes(rec.value).subject == subject
                                 and Envelope.from_bytes(rec.value).source == f"/stores/{ingest.store_id}",
                                 expect=expect, timeout=timeout)
    return [Envelope.from_bytes(rec.value) for rec in records]


async def test_a_webhook_refund_reaches_kafka_with_its_lines_and_in_order(ingest, rest_store, stack, uid):
    s = rest_store.store
    order, line, tee = _refunded_order(rest_store, uid)
    tail = await TopicTail.at_end(stack.bootstrap_servers(), ORDERS.name)
    try:
        assert (await _webhook(ingest, rest_store, "order.created", order["id"]))["outcome"] == "applied"
        refund = s.refund_order(order["id"], reason="one tee torn", line_items=[(line["id"], 1)])
        webhook = rest_store.store.delivery_payload("order.updated", order["id"])
        assert webhook["refunds"] == [{"id": refund["id"], "reason": "one tee torn", "total": "-20.00"}]
        assert await _webhook(ingest, rest_store, "order.updated", order["id"]) == {"outcome": "applied", "events": 1}
        s.set_order_status(order["id"], "completed")  # derived while the refund is held: it waits behind it
        assert (await _webhook(ingest, rest_store, "order.updated", order["id"]))["events"] == 2
        events = await _published(stack, ingest, tail, order["id"], expect=5)
    finally:
        await tail.close()
    assert [e.type for e in events] == ["order.placed", "order.paid", "order.refunded", "order.status_changed",
                                        "order.completed"]
    [refunded] = [e.data["refund"] for e in events if e.type == "order.refunded"]
    assert (refunded["refund_id"], refunded["amount"], refunded["reason"]) == (refund["id"], "20.00", "one tee torn")
    [got] = refunded["line_items"]
    assert (got["line_id"], got["product_id"], got["quantity"], got["total"]) == (line["id"], tee["id"], 1, "20.00")
    assert [e["type"] for e in await ingest.events_of(f"order/{order['id']}")] == [e.type for e in events]
    assert await ingest.pool.fetchval("SELECT count(*) FROM held_events WHERE store_id = $1", ingest.store_id) == 0
    held = await ingest.pool.fetchval("SELECT state ? 'held' FROM snapshots WHERE store_id = $1 AND"
                                      " resource = 'order' AND resource_id = $2", ingest.store_id, str(order["id"]))
    assert held is False


async def test_with_the_store_unreachable_the_refund_goes_out_without_lines_after_the_wait_once(
        ingest, rest_store, stack, uid):
    s = rest_store.store
    order, line, _ = _refunded_order(rest_store, uid)
    dead = closed_port()
    tail = await TopicTail.at_end(stack.bootstrap_servers(), ORDERS.name)
    try:
        await _webhook(ingest, rest_store, "order.created", order["id"])
        r = await ingest.http.patch(f"/stores/{ingest.store_id}", headers={"Authorization": f"Bearer {TOKEN}"},
                                    json={"rest_url": f"http://127.0.0.1:{dead.getsockname()[1]}"})
        assert r.status_code == 200, r.text
        s.refund_order(order["id"], reason="lost parcel", line_items=[(line["id"], 2)])
        await _webhook(ingest, rest_store, "order.updated", order["id"])
        assert await ingest.pool.fetchval("SELECT count(*) FROM held_events WHERE store_id = $1",
                                          ingest.store_id) == 1
        assert (await _webhook(ingest, rest_store, "order.updated", order["id"]))["outcome"] == "duplicate"
        # Waits for a second refund event as well: none may come (the wait is 3 s).
        events = await _published(stack, ingest, tail, order["id"], expect=4, timeout=WAIT_S + 12)
    finally:
        await tail.close()
        dead.close()
    assert [e.type for e in events] == ["order.placed", "order.paid", "order.refunded"]
    refund = events[-1].data["refund"]
    assert refund["line_items"] is None and refund["reason"] == "lost parcel"
    outbox = [e["type"] for e in await ingest.events_of(f"order/{order['id']}")]
    assert outbox.count("order.refunded") == 1
