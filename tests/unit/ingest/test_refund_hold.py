"""A webhook's refund carries no lines (issue 15 point 4): the order's events are held — the refund
and every later event of the order — and released in order, completed, by refund_details.py (its
integration test, tests/integration/ingest/test_refund_details.py, runs it against the store
simulator, PostgreSQL and Kafka). Here: the derivation's hold and the pipeline's routing."""
from __future__ import annotations

import orjson

from services.ingest.domain import derive_order_events
from services.ingest.domain.refunds import with_refund_lines
from services.ingest.metrics import ingest_metrics
from services.ingest.pipeline import ingest_batch
from shared.events.orders import OrderRefunded
from tests.support.fakes.ingest import MemoryDeliveryBatch
from tests.support.ingest_payloads import Chain, order_state, payload
from tests.unit.ingest.deliveries import delivery, store

REST = dict(rest_url="https://s1.example", consumer_key="ck_1", consumer_secret="cs_1")


def _chain(hold: bool) -> Chain:
    return Chain(lambda *a, **kw: derive_order_events(*a, hold_refunds=hold, **kw))


def test_a_refund_without_lines_holds_the_order_until_released():
    c = _chain(True)
    placed = c.deliver(order_state("processing", 0), "order.created")
    assert not placed.held and "held" not in placed.snapshot
    refunded = c.deliver(order_state("processing", 1, refunds=[(9001, "5.00")]), "order.updated")
    assert refunded.held and [e.envelope.type for e in refunded.events] == ["order.refunded"]
    assert refunded.snapshot["held"] is True
    later = c.deliver(order_state("completed", 2, refunds=[(9001, "5.00")]), "order.updated")
    assert later.held and later.snapshot["held"] is True  # behind the refund, whatever it is
    quiet = c.deliver(order_state("completed", 3, refunds=[(9001, "5.00")], customer_note="x"), "order.updated")
    assert not quiet.events and quiet.snapshot["held"] is True  # nothing to hold, the mark stays
    trashed = c.deliver({"id": 727}, "order.deleted")
    assert trashed.held


def test_without_a_way_to_ask_or_with_the_lines_in_hand_nothing_is_held():
    c = _chain(False)
    c.deliver(order_state("processing", 0), "order.created")
    assert not c.deliver(order_state("processing", 1, refunds=[(9001, "5.00")]), "order.updated").held
    details = {9001: dict(payload("refund.v3.docs.json"), id=9001)}
    result = derive_order_events(store().context, None, order_state("processing", 1, refunds=[(9001, "5.00")]),
                                 "order.updated", details, hold_refunds=True)
    assert not result.held and result.events[-1].envelope.data["refund"]["line_items"] is not None


def test_a_held_refund_completed_with_its_lines_is_the_event_reconcile_would_have_made():
    body = order_state("processing", 1, refunds=[(9001, "10.00")])
    details = {9001: dict(payload("refund.ios-fixture.json"), id=9001, reason="torn")}
    held = derive_order_events(store().context, None, body, "order.updated", hold_refunds=True).events[-1]
    known = derive_order_events(store().context, None, body, "order.updated", details).events[-1]
    completed = with_refund_lines(held.envelope, details[9001])
    assert completed.id == held.envelope.id == known.envelope.id  # one fact, one id
    assert completed.data["refund"] == known.envelope.data["refund"]
    OrderRefunded.model_validate(completed.data)
    assert orjson.loads(completed.to_bytes())["data"]["refund"]["line_items"]


async def test_the_pipeline_writes_a_held_delivery_s_events_to_held_events_only():
    batch = MemoryDeliveryBatch()
    rest_store = store(**REST)
    await ingest_batch(batch, [delivery(order_state("processing", 0), "order.created", at=rest_store),
                               delivery(order_state("processing", 1, refunds=[(9001, "5.00")]), at=rest_store),
                               delivery(order_state("completed", 2, refunds=[(9001, "5.00")]), at=rest_store)],
                       ingest_metrics())
    assert batch.outbox.types == ["order.placed", "order.paid"]
    assert [(s, o, e.envelope.type) for s, o, e in batch.held] == [
        ("s1", "727", "order.refunded"), ("s1", "727", "order.status_changed"), ("s1", "727", "order.completed")]
    # Reconcile fetches the lines itself: its deliveries are never held.
    other = MemoryDeliveryBatch()
    await ingest_batch(other, [delivery(order_state("processing", 1, refunds=[(9001, "5.00")]), at=rest_store,
                                        origin="reconcile")], ingest_metrics())
    assert other.held == [] and other.outbox.types[-1] == "order.refunded"
