"""Order deliveries through the snapshot chain: transitions, repeats, late arrivals, refunds,
drafts, error bodies, trash and restore."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from services.ingest.domain import (APPLIED, DUPLICATE, ERROR_BODY, IGNORED, PARKED, STALE, StoreContext,
                                    derive_order_events)
from shared.ids import customer_key
from tests.support.ingest_payloads import Chain, assert_valid, order_state, payload

STORE = StoreContext(store_id="s1")
NOW = datetime(2026, 3, 3, tzinfo=timezone.utc)


def chain() -> Chain:
    return Chain(derive_order_events)


def transitions(c: Chain) -> list[tuple[str, str]]:
    return [(e.envelope.data["from"], e.envelope.data["to"]) for e in c.of_type("order.status_changed")]


def test_same_payload_twice_gives_the_same_events_and_ids():
    body = payload("order-partially-refunded.ios-fixture.json")
    a = derive_order_events(STORE, None, body, "order.created")
    b = derive_order_events(STORE, None, payload("order-partially-refunded.ios-fixture.json"), "order.created")
    assert [e.envelope.id for e in a.events] == [e.envelope.id for e in b.events]
    assert [e.model_dump() for e in a.events] == [e.model_dump() for e in b.events]
    assert a.snapshot == b.snapshot
    assert len({e.envelope.id for e in a.events}) == len(a.events)


def test_replaying_a_payload_five_times_emits_once():
    c = chain()
    for _ in range(5):
        c.deliver(payload("order-partially-refunded.ios-fixture.json"), "order.updated")
    assert c.outcomes == [APPLIED] + [DUPLICATE] * 4
    assert c.types == ["order.placed", "order.paid", "order.shipped", "order.completed",
                       "order.refunded", "order.refunded"]


def test_links_only_differences_are_duplicates():
    c = chain()
    body = payload("order.v3.docs.json")
    c.deliver(body, "order.created")
    body["_links"] = {"self": [{"href": "https://elsewhere.example/wp-json/wc/v3/orders/727"}]}
    assert c.deliver(body, "order.updated").outcome == DUPLICATE


def test_pending_processing_completed_one_by_one():
    c = chain()
    c.deliver(order_state("pending", 0), "order.created")
    c.deliver(order_state("processing", 1), "order.updated")
    c.deliver(order_state("completed", 2, paid_minute=1), "order.updated")
    assert c.types == ["order.placed", "order.paid", "order.status_changed", "order.status_changed",
                       "order.completed"]
    assert transitions(c) == [("pending", "processing"), ("processing", "completed")]
    assert [e.envelope.data["previous_status"] for e in c.events] == [None, "pending", "pending", "processing",
                                                                      "processing"]
    assert_valid(c.events)


def test_coalesced_jump_from_pending_to_completed():
    c = chain()
    c.deliver(order_state("pending", 0), "order.created")
    c.deliver(order_state("completed", 2, paid_minute=1), "order.updated")
    assert c.types == ["order.placed", "order.paid", "order.status_changed", "order.completed"]
    assert transitions(c) == [("pending", "completed")]
    paid, completed = c.of_type("order.paid")[0].envelope, c.of_type("order.completed")[0].envelope
    assert paid.time == datetime(2026, 3, 2, 10, 1, tzinfo=timezone.utc)  # date_paid, not the delivery
    assert completed.time == datetime(2026, 3, 2, 10, 2, tzinfo=timezone.utc)


def test_only_the_completed_state_ever_delivered():
    c = chain()
    c.deliver(order_state("completed", 2, paid_minute=1), "order.created")
    assert c.types == ["order.placed", "order.paid", "order.completed"]


def test_newer_then_older_is_stale_and_state_never_goes_back():
    c = chain()
    c.deliver(order_state("pending", 0), "order.created")
    c.deliver(order_state("completed", 2, paid_minute=1), "order.updated")
    snapshot = dict(c.snapshot)
    assert c.deliver(order_state("processing", 1), "order.updated").outcome == STALE
    assert c.deliver(order_state("pending", 0), "order.created").outcome == STALE
    assert c.snapshot == snapshot and c.snapshot["status"] == "completed"
    assert c.types == ["order.placed", "order.paid", "order.status_changed", "order.completed"]


def test_same_second_new_content_is_newer_and_old_content_does_not_flip_back():
    c = chain()
    c.deliver(order_state("processing", 1), "order.created")
    c.deliver(order_state("on-hold", 1), "order.updated")  # same date_modified, new content
    assert c.types[-2:] == ["order.status_changed", "order.on_hold"]
    assert c.deliver(order_state("processing", 1), "order.updated").outcome == DUPLICATE
    assert c.snapshot["status"] == "on-hold"


def test_status_events_for_on_hold_cancelled_failed():
    c = chain()
    c.deliver(order_state("on-hold", 0), "order.created")
    c.deliver(order_state("cancelled", 1), "order.updated")
    assert c.types == ["order.placed", "order.on_hold", "order.status_changed", "order.cancelled"]
    failed = chain()
    failed.deliver(order_state("pending", 0), "order.created")
    failed.deliver(order_state("failed", 1), "order.updated")
    assert failed.types == ["order.placed", "order.status_changed", "order.failed"]


def test_unknown_plugin_status_gives_status_changed_only():
    c = chain()
    c.deliver(order_state("processing", 0), "order.created")
    c.deliver(order_state("ready-for-pickup", 1, paid_minute=0), "order.updated")
    c.deliver(order_state("awaiting-shipment", 2, paid_minute=0), "order.updated")
    assert c.types == ["order.placed", "order.paid", "order.status_changed", "order.status_changed"]
    assert transitions(c) == [("processing", "ready-for-pickup"), ("ready-for-pickup", "awaiting-shipment")]


def test_paid_is_announced_once_even_if_status_goes_round():
    c = chain()
    c.deliver(order_state("processing", 0), "order.created")
    c.deliver(order_state("on-hold", 1, paid_minute=0), "order.updated")
    c.deliver(order_state("processing", 2, paid_minute=0), "order.updated")
    assert c.types.count("order.paid") == 1


def test_partial_then_full_refund():
    c = chain()
    c.deliver(order_state("completed", 0), "order.created")
    c.deliver(order_state("completed", 1, refunds=[(801, "9.35")]), "order.updated")
    c.deliver(order_state("refunded", 2, completed_minute=0, refunds=[(801, "9.35"), (802, "20.00")]),
              "order.updated")
    refunds = [e.envelope.data["refund"] for e in c.of_type("order.refunded")]
    assert [(r["refund_id"], r["amount"], r["refunded_total_so_far"], r["is_full"]) for r in refunds] == [
        (801, "9.35", "9.35", False), (802, "20.00", "29.35", True)]
    assert transitions(c) == [("completed", "refunded")]
    assert c.types[-2:] == ["order.status_changed", "order.refunded"]
    assert_valid(c.events)


def test_partial_and_full_refund_coalesced_into_one_delivery():
    c = chain()
    c.deliver(order_state("completed", 0), "order.created")
    c.deliver(order_state("refunded", 2, completed_minute=0, refunds=[(801, "9.35"), (802, "20.00")]),
              "order.updated")
    refunds = [e.envelope.data["refund"] for e in c.of_type("order.refunded")]
    assert [(r["refund_id"], r["is_full"]) for r in refunds] == [(801, False), (802, True)]


def test_marked_refunded_for_less_than_the_total_is_full():
    c = chain()
    c.deliver(order_state("refunded", 0, paid_minute=0, refunds=[(801, "5.00")]), "order.created")
    assert c.of_type("order.refunded")[0].envelope.data["refund"]["is_full"] is True


def test_a_deleted_refund_is_not_an_event_and_its_id_stays_known():
    c = chain()
    c.deliver(order_state("completed", 0, refunds=[(801, "5.00")]), "order.created")
    c.deliver(order_state("completed", 1, refunds=[]), "order.updated")
    c.deliver(order_state("completed", 2, refunds=[(801, "5.00")]), "order.updated")
    assert c.types.count("order.refunded") == 1


def test_money_keeps_the_stores_decimals():
    body = order_state("processing", 0, total="1500", total_tax="0", shipping_total="300", discount_total="0")
    for line in body["line_items"]:
        line["total"] = "600"
    d = derive_order_events(STORE, None, body, "order.created").events[0].envelope.data
    assert (d["total"], d["shipping"], d["subtotal_after_discounts"]) == ("1500", "300", "1200")


@pytest.mark.parametrize("email", ["Jane.Doe@Example.com", "  jane.doe@example.com ", "JANE.DOE@EXAMPLE.COM"])
def test_guest_key_is_the_normalized_billing_email(email):
    result = derive_order_events(STORE, None, order_state("processing", 0, email=email), "order.created")
    expected = customer_key("s1", 0, "jane.doe@example.com")
    assert {e.key for e in result.events} == {expected}
    assert result.events[0].envelope.data["customer"]["key"] == expected
    assert "jane" not in expected


def test_registered_customer_is_keyed_by_id():
    result = derive_order_events(STORE, None, order_state("processing", 0, customer_id=42), "order.created")
    assert {e.key for e in result.events} == {"s1:c42"}
    assert result.events[0].envelope.data["customer"]["id"] == 42


def test_guest_without_email_is_keyed_by_the_order_not_a_shared_hash():
    a = derive_order_events(STORE, None, order_state("processing", 0, email="", order_id=1), "order.created")
    b = derive_order_events(STORE, None, order_state("processing", 0, email="", order_id=2), "order.created")
    assert a.events[0].key == "s1:o1" and b.events[0].key == "s1:o2"


def test_customer_locale_falls_back_to_the_store_and_reads_wpml():
    store = StoreContext(store_id="s1", locale="de_DE")
    body = order_state("processing", 0)
    def locale() -> str:
        return derive_order_events(store, None, body, "order.created").events[0].envelope.data["customer"]["locale"]
    assert locale() == "de_DE"
    body["meta_data"].append({"id": 1, "key": "wpml_language", "value": "fr"})
    assert locale() == "fr"


@pytest.mark.parametrize("status", ["checkout-draft", "auto-draft"])
def test_drafts_are_parked_without_a_snapshot(status):
    c = chain()
    result = c.deliver(order_state(status, 0), "order.updated")
    assert (result.outcome, result.events, result.snapshot) == (PARKED, [], None)
    c.deliver(order_state("processing", 1), "order.created")  # "Place order": a first sight
    assert c.types == ["order.placed", "order.paid"]


@pytest.mark.parametrize("body", [
    {"code": "woocommerce_rest_cannot_view", "message": "Sorry, you cannot view this resource.",
     "data": {"status": 401}},
    {"code": "woocommerce_rest_shop_order_invalid_id", "message": "Invalid ID.", "data": {"status": 404}}])
def test_error_bodies_are_not_orders(body):
    placed = derive_order_events(STORE, None, payload("order.v3.docs.json"), "order.created")
    result = derive_order_events(STORE, placed.snapshot, body, "order.updated")
    assert (result.outcome, result.events, result.snapshot) == (ERROR_BODY, [], None)


def test_unhandled_topic_is_ignored():
    assert derive_order_events(STORE, None, payload("order.v3.docs.json"), "order.published").outcome == IGNORED


@pytest.mark.parametrize("body", [{"id": None}, {"id": "abc"}, {}, {"id": 7}])
def test_malformed_payloads_raise(body):
    with pytest.raises((ValueError, KeyError, TypeError)):
        derive_order_events(STORE, None, body, "order.updated")


def test_trash_then_restore():
    c = chain()
    c.deliver(order_state("processing", 0), "order.created")
    c.deliver({"id": 727}, "order.deleted", now=NOW)
    assert c.deliver({"id": 727}, "order.deleted", now=NOW).outcome == DUPLICATE
    assert c.deliver(order_state("processing", 0), "order.updated").outcome == DUPLICATE  # pre-trash state, late
    c.deliver(order_state("processing", 5), "order.restored")
    assert c.types == ["order.placed", "order.paid", "order.deleted", "order.restored"]
    c.deliver({"id": 727}, "order.deleted", now=NOW)  # trashed again: a new fact
    assert c.types[-1] == "order.deleted"
    deleted = c.of_type("order.deleted")
    assert deleted[0].envelope.id != deleted[1].envelope.id
    assert_valid(c.events)


def test_restore_with_a_status_change_after_trash():
    c = chain()
    c.deliver(order_state("on-hold", 0), "order.created")
    c.deliver({"id": 727}, "order.deleted", now=NOW)
    c.deliver(order_state("processing", 5), "order.restored")
    assert c.types[-3:] == ["order.restored", "order.paid", "order.status_changed"]


def test_trash_status_in_a_full_payload_is_a_deletion_timed_by_the_store():
    c = chain()
    c.deliver(order_state("processing", 0), "order.created")
    c.deliver(order_state("trash", 3, paid_minute=0), "order.updated")
    [deleted] = c.of_type("order.deleted")
    assert deleted.envelope.time == datetime(2026, 3, 2, 10, 3, tzinfo=timezone.utc)
    assert c.deliver({"id": 727}, "order.deleted", now=NOW).outcome == DUPLICATE
    assert c.deliver(order_state("processing", 1), "order.updated").outcome == STALE
    assert c.snapshot["status"] == "processing" and c.snapshot["deleted"] is True


def test_restored_without_a_known_trash_still_says_restored():
    c = chain()
    c.deliver(order_state("processing", 0), "order.created")
    c.deliver(order_state("processing", 4), "order.restored")
    assert c.types[-1] == "order.restored"


def test_order_deleted_never_seen_then_restored_is_a_first_sight():
    c = chain()
    c.deliver({"id": 727}, "order.deleted", now=NOW)
    c.deliver(order_state("processing", 5), "order.restored")
    assert c.types == ["order.deleted", "order.placed", "order.paid"]


def test_snapshot_is_compact_json_without_personal_data():
    result = derive_order_events(STORE, None, payload("order-partially-refunded.ios-fixture.json"), "order.created")
    text = str(result.snapshot)
    assert "automattic.com" not in text and "Pamela" not in text
    assert set(result.snapshot) == {"v", "modified", "hashes", "status", "number", "key", "paid", "deleted",
                                    "refunds", "tracking"}


def test_a_pre_trash_state_from_the_same_second_does_not_resurrect():
    c = chain()
    c.deliver(order_state("processing", 0), "order.created")
    c.deliver({"id": 727}, "order.deleted", now=NOW)
    late = order_state("processing", 0, customer_note="gift wrap, please")  # same second, other content
    assert c.deliver(late, "order.updated").outcome == STALE
    assert c.snapshot["deleted"] is True
    c.deliver(late, "order.restored")  # an explicit restore of that state does bring it back
    assert c.types[-1] == "order.restored"


@pytest.mark.parametrize("returned_to", ["processing", "on-hold", "completed"])
def test_restored_says_it_came_back_from_the_trash_and_to_which_status(returned_to):
    """The real order example, trashed by webhook ({"id"} only), then restored to a status:
    previous_status is where it came back from, status is where it returned to."""
    c = chain()
    c.deliver(payload("order.v3.docs.json"), "order.created")
    c.deliver({"id": 727}, "order.deleted", now=NOW)
    c.deliver(order_state(returned_to, 5, paid_minute=0), "order.restored")
    [restored] = c.of_type("order.restored")
    assert restored.envelope.data["previous_status"] == "trash"
    assert restored.envelope.data["status"] == returned_to
    # the facts after it still say what the order was before the trash
    for e in c.events[c.events.index(restored) + 1:]:
        assert e.envelope.data["previous_status"] == "processing"
    assert_valid(c.events)


def test_restored_trashed_by_a_full_payload_says_trash_too():
    c = chain()
    c.deliver(payload("order-partially-refunded.ios-fixture.json"), "order.created")
    body = payload("order-partially-refunded.ios-fixture.json")
    status = body["status"]
    trashed = dict(body, status="trash", date_modified_gmt="2030-01-01T00:00:00")
    c.deliver(trashed, "order.updated")
    restored_body = dict(body, date_modified_gmt="2030-01-01T00:01:00")
    c.deliver(restored_body, "order.restored")
    [restored] = c.of_type("order.restored")
    assert (restored.envelope.data["previous_status"], restored.envelope.data["status"]) == ("trash", status)
