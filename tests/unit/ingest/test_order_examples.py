"""Real WooCommerce order payloads (REST docs, WooCommerce iOS fixtures) → the right events."""
from __future__ import annotations

from datetime import datetime, timezone

from services.ingest.domain import APPLIED, StoreContext, derive_order_events
from shared.events.envelope import event_id
from shared.ids import customer_key
from tests.support.ingest_payloads import assert_valid, payload, types

STORE = StoreContext(store_id="s1")
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def test_docs_order_is_placed_and_paid_guest_keyed_by_email():
    result = derive_order_events(STORE, None, payload("order.v3.docs.json"), "order.created")
    assert result.outcome == APPLIED
    assert types(result) == ["order.placed", "order.paid"]
    assert_valid(result.events)
    placed, paid = result.events
    key = customer_key("s1", 0, "john.doe@example.com")
    assert {e.key for e in result.events} == {key}
    assert placed.envelope.id == event_id("s1", "order", 727, "2017-03-22T19:28:02", "order.placed", None)
    assert paid.envelope.id == event_id("s1", "order", 727, "2017-03-22T19:28:08", "order.paid", None)
    assert placed.envelope.time == utc("2017-03-22T19:28:02") and paid.envelope.time == utc("2017-03-22T19:28:08")
    assert placed.envelope.source == "/stores/s1" and placed.envelope.subject == "order/727"
    assert placed.topic == "orders.v1"
    d = placed.envelope.data
    assert d["customer"] == {"key": key, "id": None, "email": "john.doe@example.com", "first_name": "John",
                             "last_name": "Doe", "locale": None}
    assert (d["store_id"], d["order_id"], d["order_number"], d["status"], d["previous_status"]) == (
        "s1", 727, "727", "processing", None)
    assert (d["currency"], d["total"], d["subtotal_after_discounts"], d["tax"], d["shipping"], d["discount"]) == (
        "USD", "29.35", "18.00", "1.35", "10.00", "0.00")
    assert d["line_items"] == [
        {"line_id": 315, "product_id": 93, "variation_id": None, "sku": None, "name": "Woo Single #1",
         "quantity": 2, "total": "6.00", "subtotal": "6.00"},
        {"line_id": 316, "product_id": 22, "variation_id": 23, "sku": "Bar3",
         "name": "Ship Your Idea \u2013 Color: Black, Size: M Test", "quantity": 1, "total": "12.00", "subtotal": "12.00"}]
    assert d["shipping_country"] == "US"
    assert d["dates"] == {"created": "2017-03-22T19:28:02Z", "paid": "2017-03-22T19:28:08Z", "completed": None}
    assert result.snapshot["status"] == "processing" and result.snapshot["key"] == key
    assert result.snapshot["modified"] == "2017-03-22T19:28:08" and result.snapshot["paid"] is True


def test_partially_refunded_first_sight_tells_the_whole_story_in_order():
    result = derive_order_events(STORE, None, payload("order-partially-refunded.ios-fixture.json"), "order.updated")
    assert types(result) == ["order.placed", "order.paid", "order.shipped", "order.completed",
                             "order.refunded", "order.refunded"]
    assert_valid(result.events)
    assert {e.key for e in result.events} == {"s1:c1"}
    d = result.events[0].envelope.data
    assert (d["total"], d["subtotal_after_discounts"], d["shipping"], d["tax"]) == ("304.45", "250.20", "54.25", "0.00")
    assert len(d["line_items"]) == 8 and d["customer"]["id"] == 1

    shipped = result.events[2].envelope
    assert shipped.data["tracking"] == {
        "carrier": "fedex", "number": "117579686762",
        "url": "https://www.fedex.com/apps/fedextrack/?action=track&tracknumbers=117579686762",
        "shipped_at": "2019-08-20T00:00:00Z", "line_ids": None}
    assert shipped.id == event_id("s1", "order", 324, None, "order.shipped", "117579686762")

    completed = result.events[3].envelope
    assert completed.time == utc("2019-06-06T17:18:38")
    assert completed.data["dates"]["completed"] == "2019-06-06T17:18:38Z"

    first, second = (e.envelope for e in result.events[4:])
    # Oldest refund first, although WooCommerce lists the newest first.
    assert first.data["refund"] == {"refund_id": 547, "amount": "8.10", "reason": None, "line_items": None,
                                    "refunded_total_so_far": "8.10", "is_full": False}
    assert second.data["refund"] == {"refund_id": 549, "amount": "16.20", "reason": "Sold out", "line_items": None,
                                     "refunded_total_so_far": "24.30", "is_full": False}
    assert first.id == event_id("s1", "order", 324, None, "order.refunded", 547)
    assert result.snapshot["refunds"] == {"547": "8.10", "549": "16.20"}
    assert result.snapshot["tracking"] == ["117579686762"]


def test_refunds_are_news_only_once_against_the_earlier_state():
    body = payload("order-partially-refunded.ios-fixture.json")
    before = dict(body, refunds=[], date_modified_gmt="2019-06-06T17:18:00")
    first = derive_order_events(STORE, None, before, "order.created")
    assert "order.refunded" not in types(first)
    later = derive_order_events(STORE, first.snapshot, body, "order.updated")
    assert types(later) == ["order.refunded", "order.refunded"]
    assert [e.envelope.data["previous_status"] for e in later.events] == ["completed", "completed"]
    # The same refunds, whichever payload revealed them, carry the same ids.
    fresh = derive_order_events(STORE, None, body, "order.updated")
    assert [e.envelope.id for e in later.events] == [e.envelope.id for e in fresh.events[-2:]]


def test_fully_refunded_order():
    result = derive_order_events(STORE, None, payload("order-fully-refunded.ios-fixture.json"), "order.updated")
    assert types(result) == ["order.placed", "order.paid", "order.refunded"]
    assert_valid(result.events)
    refund = result.events[-1].envelope.data["refund"]
    assert refund == {"refund_id": 622, "amount": "223.71", "reason": "Order fully refunded", "line_items": None,
                      "refunded_total_so_far": "223.71", "is_full": True}
    assert result.events[-1].envelope.data["status"] == "refunded"
    assert result.events[-1].envelope.time == utc("2017-09-20T20:27:11")  # no refund details: date_modified


def test_refund_details_fill_lines_reason_and_time():
    body = payload("order-partially-refunded.ios-fixture.json")
    body["refunds"] = [{"id": 562, "reason": "", "total": "-27.00"}]
    details = {"562": payload("refund.ios-fixture.json")}  # as a JSON-decoded map would have it
    result = derive_order_events(STORE, None, body, "order.updated", refund_details=details)
    refunded = result.events[-1].envelope
    assert refunded.type == "order.refunded"
    assert refunded.data["refund"]["line_items"] == [
        {"line_id": 65, "product_id": 21, "variation_id": 70, "sku": "HOODIE-SHIP-YOUR-IDEA-BLUE-XL",
         "name": "Ship Your Idea - Blue, XL", "quantity": 1, "total": "27.00"}]
    assert refunded.data["refund"]["reason"].startswith("My pet hamster ate the sleeve")
    assert refunded.data["refund"]["amount"] == "27.00"
    assert refunded.time == utc("2019-10-01T19:33:46")
    assert_valid(result.events)


def test_refund_details_without_lines_give_an_empty_list_not_null():
    body = payload("order-partially-refunded.ios-fixture.json")
    body["refunds"] = [{"id": 726, "reason": "", "total": "-10.00"}]
    details = {726: payload("refund.v3.docs.json")}
    result = derive_order_events(STORE, None, body, "order.updated", refund_details=details)
    assert result.events[-1].envelope.data["refund"]["line_items"] == []


def test_deleted_order_never_seen_is_keyed_by_the_order():
    result = derive_order_events(STORE, None, payload("derived/order.deleted.json"), "order.deleted", now=NOW)
    assert types(result) == ["order.deleted"]
    assert_valid(result.events)
    [out] = result.events
    assert out.key == "s1:o727" and out.envelope.subject == "order/727" and out.envelope.time == NOW
    assert out.envelope.data == {"store_id": "s1", "order_id": 727, "order_number": None, "status": "trash",
                                 "previous_status": None, "customer": {"key": "s1:o727", "id": None, "email": None,
                                                                       "first_name": None, "last_name": None,
                                                                       "locale": None},
                                 "permanent": False}
    assert result.snapshot["deleted"] is True


def test_deleted_order_uses_the_snapshot_key_and_accepts_a_string_id():
    placed = derive_order_events(STORE, None, payload("order.v3.docs.json"), "order.created")
    result = derive_order_events(STORE, placed.snapshot, {"id": "727"}, "order.deleted", now=NOW)
    [out] = result.events
    key = customer_key("s1", 0, "john.doe@example.com")
    assert out.key == key and out.envelope.data["customer"]["key"] == key
    assert out.envelope.data["order_number"] == "727" and out.envelope.data["previous_status"] == "processing"
    # The body has no date: the id names the last state known before the trash.
    last = placed.snapshot["hashes"][-1][:16]
    assert out.envelope.id == event_id("s1", "order", 727, "2017-03-22T19:28:08", "order.deleted", last)
