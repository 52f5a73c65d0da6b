"""The store's day: what the receiver gets, and that the REST API agrees with it."""
from __future__ import annotations

import json

from deploy.local.storesim import make_sender_factory, verify
from deploy.local.storesim.scenario import play_day

from tests.support.storesim import API, RECEIVER_URL, Receiver, api_client

SOURCE = "https://demo-store.example/"


async def _play(store):
    receiver = Receiver()
    async with receiver.client() as client:
        summary = await play_day(store, make_sender_factory(SOURCE, client=client),
                                 delivery_url=RECEIVER_URL, secret="day-secret")
    return receiver, summary


def _deliveries(receiver):
    return [(h, json.loads(b)) for h, b in receiver.requests if "x-wc-webhook-topic" in h]


async def test_day_summary(store):
    receiver, summary = await _play(store)
    assert summary.by_topic == {"product.created": 3, "customer.created": 1, "order.created": 6,
                                "order.updated": 11, "customer.updated": 2, "product.updated": 1}
    assert summary.status_codes == {200: 24}
    assert summary.pings == [200] * 10 and len(summary.webhooks) == 10
    assert len(receiver.requests) == 34
    as_dict = summary.as_dict()
    assert as_dict["deliveries"] == 24 and as_dict["ids"]["order_a"] in store.orders


async def test_every_delivery_is_signed_and_sourced(store):
    receiver, summary = await _play(store)
    for headers, body in receiver.requests:
        if "x-wc-webhook-topic" not in headers:
            assert body.startswith(b"webhook_id=")
            continue
        assert headers["x-wc-webhook-source"] == SOURCE
        assert verify("day-secret", body, headers["x-wc-webhook-signature"])
        topic = headers["x-wc-webhook-topic"]
        assert headers["x-wc-webhook-id"] == str(summary.webhooks[topic])


async def test_order_stories(store):
    receiver, summary = await _play(store)
    ids = summary.ids
    updates = {}
    for headers, payload in _deliveries(receiver):
        if headers["x-wc-webhook-topic"] == "order.updated":
            updates.setdefault(payload["id"], []).append(payload)
    # A: paid, shipped, completed, one request each.
    assert [p["status"] for p in updates[ids["order_a"]]] == ["processing", "processing", "completed"]
    assert any(m["key"] == "_wc_shipment_tracking_items" for m in updates[ids["order_a"]][1]["meta_data"])
    # B: tracking + completed in one request -> one delivery with both.
    assert [p["status"] for p in updates[ids["order_b"]]] == ["processing", "completed"]
    assert any(m["key"] == "_wc_shipment_tracking_items" for m in updates[ids["order_b"]][1]["meta_data"])
    assert updates[ids["order_b"]][1]["billing"]["city"] == "M\u00e1laga"
    assert [p["status"] for p in updates[ids["order_c"]]] == ["cancelled"]
    assert [p["status"] for p in updates[ids["order_d"]]] == ["failed"]
    e = updates[ids["order_e"]]
    assert [p["status"] for p in e] == ["processing", "processing", "refunded"]
    assert [len(p["refunds"]) for p in e] == [0, 1, 2] and e[1]["total"] == e[2]["total"] == "45.50"
    assert e[1]["refunds"][0]["total"] == "-13.50" and e[2]["refunds"][0]["total"] == "-32.00"
    assert [p["status"] for p in updates[ids["order_f"]]] == ["completed"]  # nothing to ship
    assert updates[ids["order_f"]][0]["customer_id"] == ids["customer"]


async def test_rest_api_sees_what_the_webhooks_described(store):
    receiver, summary = await _play(store)
    latest = {}
    for headers, payload in _deliveries(receiver):
        if headers["x-wc-webhook-resource"] == "order":
            latest[payload["id"]] = payload
    async with api_client(store) as client:
        listed = await client.get(API + "/orders", params={"per_page": 100})
        for order_id, payload in latest.items():
            assert (await client.get(API + f"/orders/{order_id}")).json() == payload
        customer = (await client.get(API + f"/customers/{summary.ids['customer']}")).json()
    assert listed.headers["X-WP-Total"] == "6"
    assert customer["is_paying_customer"] is True
    assert customer["billing"]["address_1"] == "Avenida da Liberdade 200"
