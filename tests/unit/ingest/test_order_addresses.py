"""Order events carry what an order email shows beside the totals — each line's price before
discounts, the payment method's title and the billing and shipping addresses — read from real
WooCommerce payloads (REST docs, iOS fixture)."""
from __future__ import annotations

from services.ingest.domain import StoreContext, derive_order_events
from shared.events.orders import OrderEvent
from tests.support.ingest_payloads import assert_valid, payload

STORE = StoreContext(store_id="s1")


def test_docs_order_carries_payment_method_and_both_addresses():
    result = derive_order_events(STORE, None, payload("order.v3.docs.json"), "order.created")
    assert_valid(result.events)
    d = result.events[0].envelope.data
    assert d["payment_method_title"] == "Direct Bank Transfer"
    assert d["billing_address"] == {"first_name": "John", "last_name": "Doe", "company": None,
                                    "address_1": "969 Market", "address_2": None, "city": "San Francisco",
                                    "state": "CA", "postcode": "94103", "country": "US", "phone": "(555) 555-5555"}
    assert d["shipping_address"] == {**d["billing_address"], "phone": None}
    order = OrderEvent.model_validate(d)
    assert order.billing_address.city == "San Francisco" and order.shipping_address.phone is None


def test_ios_fixture_keeps_the_company_and_the_card_payment():
    result = derive_order_events(STORE, None, payload("order-partially-refunded.ios-fixture.json"), "order.created")
    d = result.events[0].envelope.data
    assert d["payment_method_title"] == "Credit Card (Stripe)"
    assert d["shipping_address"]["company"] == "Smithsonian Natural History Museum"
    assert d["billing_address"]["phone"] == "2022611000"


def test_blank_addresses_and_no_payment_method_are_none():
    state = payload("order.v3.docs.json")
    state["shipping"] = {k: "" for k in state["shipping"]}  # a virtual order: nothing to ship
    state["billing"] = {**{k: "" for k in state["billing"]}, "email": "john.doe@example.com"}
    state["payment_method_title"] = ""
    d = derive_order_events(STORE, None, state, "order.created").events[0].envelope.data
    assert (d["shipping_address"], d["billing_address"], d["payment_method_title"]) == (None, None, None)
    assert OrderEvent.model_validate(d).shipping_address is None


def test_an_event_from_before_the_fields_still_parses():
    d = derive_order_events(STORE, None, payload("order.v3.docs.json"), "order.created").events[0].envelope.data
    old = {k: v for k, v in d.items() if k not in ("payment_method_title", "billing_address", "shipping_address")}
    order = OrderEvent.model_validate(old)
    assert (order.payment_method_title, order.billing_address, order.shipping_address) == (None, None, None)


def test_each_line_carries_its_price_before_discounts():
    state = payload("order.v3.docs.json")
    state["line_items"][0].update(subtotal="8.00", total="6.00")  # a coupon took 2.00 off this line
    state["line_items"][1].pop("subtotal")  # a plugin that doesn't send it
    lines = derive_order_events(STORE, None, state, "order.created").events[0].envelope.data["line_items"]
    assert [(li["subtotal"], li["total"]) for li in lines] == [("8.00", "6.00"), (None, "12.00")]
