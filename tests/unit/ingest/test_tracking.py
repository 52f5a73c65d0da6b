"""Tracking numbers from the common tracking plugins → order.shipped, once per number."""
from __future__ import annotations

from datetime import datetime, timezone

from services.ingest.domain import StoreContext, derive_order_events
from services.ingest.domain.tracking import shipments
from tests.support.ingest_payloads import Chain, assert_valid, order_state, payload


def meta(*pairs: tuple[str, object]) -> list[dict]:
    return [{"id": i, "key": k, "value": v} for i, (k, v) in enumerate(pairs, start=1)]


def test_woocommerce_shipment_tracking_items_from_the_fixture():
    body = payload("order-partially-refunded.ios-fixture.json")
    [s] = shipments(body["meta_data"])
    assert (s.number, s.carrier, s.shipped_at) == ("117579686762", "fedex", datetime(2019, 8, 20, tzinfo=timezone.utc))
    assert s.url == "https://www.fedex.com/apps/fedextrack/?action=track&tracknumbers=117579686762"


def test_custom_provider_and_link_win_over_the_provider_slug():
    [s] = shipments(meta(("_wc_shipment_tracking_items", [{
        "tracking_provider": "", "custom_tracking_provider": "Bring",
        "custom_tracking_link": "https://bring.example/t/AB 1",
        "tracking_number": "AB 1", "date_shipped": "1700000000", "tracking_id": "x",
        "products_list": [{"product": 93, "item_id": "315", "qty": 1}]}])))
    assert (s.carrier, s.url, s.line_ids) == ("Bring", "https://bring.example/t/AB 1", (315,))


def test_aftership_items_and_its_mirrored_single_keys_are_one_shipment():
    [s] = shipments(meta(
        ("_aftership_tracking_items", [{"slug": "usps", "tracking_number": "9400 1000", "tracking_id": "m",
                                        "additional_fields": {"ship_date": "2024-05-01"},
                                        "metrics": {"created_at": "2024-05-01T10:00:00Z"}}]),
        ("_aftership_tracking_number", "94001000"), ("_aftership_tracking_provider_name", "usps")))
    assert (s.number, s.carrier, s.shipped_at) == ("9400 1000", "usps", datetime(2024, 5, 1, tzinfo=timezone.utc))
    assert s.url == "https://tools.usps.com/go/TrackConfirmAction.action?tLabels=9400%201000"


def test_legacy_single_keys_and_yith():
    found = shipments(meta(("_tracking_number", "1Z999"), ("_tracking_provider", "ups"),
                           ("_date_shipped", "1700000000"),
                           ("ywot_tracking_code", "RR123456789SE"), ("ywot_carrier_name", "PostNord"),
                           ("ywot_carrier_url", "https://postnord.example/"), ("ywot_pick_up_date", "2024-05-02")))
    assert [(s.number, s.carrier) for s in found] == [("1Z999", "ups"), ("RR123456789SE", "PostNord")]
    assert found[0].shipped_at == datetime.fromtimestamp(1700000000, tz=timezone.utc)
    assert found[1].url == "https://postnord.example/"
    assert found[1].shipped_at == datetime(2024, 5, 2, tzinfo=timezone.utc)


def test_empty_and_garbled_meta_are_no_shipments():
    assert shipments(meta(("_wc_shipment_tracking_items", []), ("_tracking_number", ""),
                          ("ywot_tracking_code", {"odd": 1}), ("_aftership_tracking_items", "x"))) == []
    assert shipments(None) == []


def test_shipped_once_even_when_delivered_again_and_once_per_new_number():
    c = Chain(derive_order_events)
    c.deliver(order_state("processing", 0), "order.created")
    c.deliver(order_state("processing", 1, paid_minute=0, tracking=["1Z001"]), "order.updated")
    c.deliver(order_state("processing", 1, paid_minute=0, tracking=["1Z001"]), "order.updated")
    c.deliver(order_state("processing", 2, paid_minute=0, tracking=["1z 001"]), "order.updated")  # same number
    c.deliver(order_state("completed", 3, paid_minute=0, tracking=["1Z001", "1Z002"]), "order.updated")
    c.deliver(order_state("completed", 4, paid_minute=0, completed_minute=3, tracking=["1Z002"]), "order.updated")
    c.deliver(order_state("completed", 5, paid_minute=0, completed_minute=3, tracking=["1Z001", "1Z002"]),
              "order.updated")
    shipped = c.of_type("order.shipped")
    assert [e.envelope.data["tracking"]["number"] for e in shipped] == ["1Z001", "1Z002"]
    assert c.types[-2:] == ["order.shipped", "order.completed"]  # shipped before completed in one delivery
    assert shipped[0].envelope.data["tracking"]["carrier"] == "ups"
    assert shipped[0].envelope.data["tracking"]["url"] == "https://www.ups.com/track?loc=en_US&tracknum=1Z001"
    assert_valid(c.events)


def test_shipped_id_is_the_tracking_number_whatever_payload_shows_it():
    store = StoreContext(store_id="s1")
    a = derive_order_events(store, None, order_state("processing", 1, tracking=["1Z001"]), "order.updated")
    b = derive_order_events(store, None, order_state("completed", 9, tracking=["1Z001"]), "order.updated")
    [sa], [sb] = ([e for e in r.events if e.envelope.type == "order.shipped"] for r in (a, b))
    assert sa.envelope.id == sb.envelope.id
