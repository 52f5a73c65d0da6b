"""Each real payload, loaded into the store, is served back by the REST API unchanged.

Documented exceptions:
* product reviews: GET uses the ``view`` context, which renders ``review`` through wpautop()
  ("Nice album!" -> "<p>Nice album!</p>\\n"); ``?context=edit`` (and the POST response)
  return the raw text, which is what the docs example shows;
* legacy-delivery-log.v2.docs.json is a v2 delivery log, not a resource the simulator serves
  (its body is checked in test_php_json.py);
* derived/action.* and derived/order.deleted.json are webhook bodies, checked here against
  Store.delivery_payload().
Everything else, ``_links`` included, is byte-identical to PHP's encoding of the fixture.
"""
from __future__ import annotations

import copy

import pytest

from deploy.local.storesim import Store, php_json_encode

from tests.support.storesim import API, api_client, fixture, home_of

ORDERS = ["order.v3.docs.json", "order-partially-refunded.ios-fixture.json",
          "order-fully-refunded.ios-fixture.json"]


def _store_for(payload: dict) -> Store:
    return Store(home_of(payload))


async def _assert_served(store: Store, path: str, payload: dict) -> None:
    async with api_client(store) as client:
        response = await client.get(API + path)
    assert response.status_code == 200, response.text
    assert response.json() == payload
    # Same key order and PHP escaping: the bytes equal PHP's encoding of the original.
    assert response.content == php_json_encode(payload)
    assert response.headers["content-type"] == "application/json; charset=UTF-8"


@pytest.mark.parametrize("name", ORDERS)
async def test_orders_round_trip(name):
    payload = fixture(name)
    store = _store_for(payload)
    store.load_order(payload)
    await _assert_served(store, f"/orders/{payload['id']}", payload)
    assert store.delivery_payload("order.updated", payload["id"]) == payload


@pytest.mark.parametrize("name", ORDERS)
async def test_orders_in_collection_equal_originals(name):
    payload = fixture(name)
    store = _store_for(payload)
    store.load_order(payload)
    async with api_client(store) as client:
        response = await client.get(API + "/orders", params={"status": payload["status"]})
    assert response.json() == [payload]
    assert response.headers["X-WP-Total"] == "1"


@pytest.mark.parametrize("name, kind, path", [
    ("customer.v3.docs.json", "customer", "/customers/25"),
    ("product.v3.docs.json", "product", "/products/794"),
    ("coupon.v3.docs.json", "coupon", "/coupons/719"),
])
async def test_other_resources_round_trip(name, kind, path):
    payload = fixture(name)
    store = _store_for(payload)
    getattr(store, f"load_{kind}")(payload)
    await _assert_served(store, path, payload)


@pytest.mark.parametrize("name", ["refund.v3.docs.json", "refund.ios-fixture.json"])
async def test_refunds_round_trip(name):
    payload = fixture(name)
    order_id = int(payload["_links"]["up"][0]["href"].rsplit("/", 1)[1])
    store = _store_for(payload)
    parent = copy.deepcopy(fixture("order.v3.docs.json"))
    parent["id"] = order_id
    store.load_order(parent)
    store.load_refund(order_id, payload)
    await _assert_served(store, f"/orders/{order_id}/refunds/{payload['id']}", payload)


async def test_webhook_resource_round_trips_without_secret():
    payload = fixture("webhook-resource.v3.docs.json")
    store = _store_for(payload)
    store.load_webhook(payload, secret="top-secret")
    await _assert_served(store, "/webhooks/142", payload)
    async with api_client(store) as client:
        listed = await client.get(API + "/webhooks")
    assert listed.json() == [payload]
    assert b"top-secret" not in listed.content and "secret" not in listed.json()[0]


async def test_product_review_round_trips_in_edit_context():
    payload = fixture("product-review.v3.docs.json")
    store = _store_for(payload)
    store.load_review(payload)
    await _assert_served(store, "/products/reviews/22?context=edit", payload)
    async with api_client(store) as client:
        view = (await client.get(API + "/products/reviews/22")).json()
    assert view["review"] == "<p>Nice album!</p>\n"
    assert {**view, "review": payload["review"]} == payload


def test_derived_webhook_bodies():
    store = Store()
    assert store.delivery_payload("order.deleted", 727) == fixture("derived/order.deleted.json")
    action = fixture("derived/action.woocommerce_add_to_cart.json")
    assert store.delivery_payload("action.woocommerce_add_to_cart", action["arg"]) == action
    # A payload for a vanished object is the WP error object, like WC's internal GET.
    assert store.delivery_payload("order.updated", 999) == {
        "code": "woocommerce_rest_shop_order_invalid_id", "message": "Invalid ID.",
        "data": {"status": 404}}
