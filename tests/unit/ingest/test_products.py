"""Product payloads → product.upserted / product.deleted on the compacted catalog.v1."""
from __future__ import annotations

from datetime import datetime, timezone

from services.ingest.domain import APPLIED, DUPLICATE, StoreContext, derive_product_events
from tests.support.ingest_payloads import Chain, assert_valid, payload, types

STORE = StoreContext(store_id="s1")
NOW = datetime(2026, 3, 3, tzinfo=timezone.utc)


def product(minute: int = 1, **over) -> dict:
    body = payload("product.v3.docs.json")
    body["date_modified_gmt"] = f"2017-03-23T20:{minute:02d}:14"
    body.update(over)
    return body


def test_docs_product_is_upserted_with_its_related_ids_sorted():
    result = derive_product_events(STORE, None, payload("product.v3.docs.json"), "product.created")
    assert types(result) == ["product.upserted"]
    assert_valid(result.events)
    [out] = result.events
    assert (out.topic, out.key, out.envelope.subject) == ("catalog.v1", "s1:p794", "product/794")
    assert out.envelope.time == datetime(2017, 3, 23, 20, 1, 14, tzinfo=timezone.utc)
    assert out.envelope.data == {
        "store_id": "s1", "product_id": 794, "parent_id": None, "type": "simple", "name": "Premium Quality",
        "sku": None, "status": "publish", "price": "21.99", "regular_price": "21.99", "sale_price": None,
        "currency": None, "stock_status": "instock",
        "categories": [{"id": 9, "name": "Clothing", "slug": "clothing"},
                       {"id": 14, "name": "T-shirts", "slug": "t-shirts"}],
        "tags": [], "cross_sell_ids": [], "upsell_ids": [], "related_ids": [40, 53, 56, 99, 479],
        "usage_period_days": None, "permalink": "https://example.com/product/premium-quality-19/",
        "image": "https://example.com/wp-content/uploads/2017/03/T_2_front-4.jpg"}


def test_shuffled_related_ids_are_not_news():
    c = Chain(derive_product_events)
    c.deliver(product(1), "product.created")
    assert c.deliver(product(1, related_ids=[99, 479, 56, 40, 53]), "product.updated").outcome == DUPLICATE
    result = c.deliver(product(2, related_ids=[40, 53, 99], total_sales=3), "product.updated")
    assert (result.outcome, result.events) == (APPLIED, [])  # newer, but nothing carried changed
    assert c.snapshot["modified"] == "2017-03-23T20:02:14"
    c.deliver(product(3, sale_price="19.99", price="19.99", cross_sell_ids=[56]), "product.updated")
    assert c.types == ["product.upserted", "product.upserted"]
    last = c.events[-1].envelope.data
    assert (last["price"], last["sale_price"], last["cross_sell_ids"]) == ("19.99", "19.99", [56])
    assert c.deliver(product(2), "product.updated").outcome == "stale"


def test_deleted_then_restored_is_upserted_again_even_if_unchanged():
    c = Chain(derive_product_events)
    c.deliver(product(1), "product.created")
    c.deliver({"id": 794}, "product.deleted", now=NOW)
    assert c.deliver({"id": "794"}, "product.deleted", now=NOW).outcome == DUPLICATE
    c.deliver(product(5), "product.restored")
    assert c.types == ["product.upserted", "product.deleted", "product.upserted"]
    deleted = c.of_type("product.deleted")[0]
    assert deleted.key == "s1:p794" and deleted.envelope.data == {"store_id": "s1", "product_id": 794}
    assert_valid(c.events)


def test_published_topic_and_variation_payload():
    body = product(1, id=795, type="variation", parent_id=794, images=None,
                   image={"id": 5, "src": "https://example.com/v.jpg"}, name="Premium Quality &ndash; XL")
    [out] = derive_product_events(STORE, None, body, "product.published").events
    d = out.envelope.data
    assert (d["product_id"], d["parent_id"], d["type"], d["image"], d["name"]) == (
        795, 794, "variation", "https://example.com/v.jpg", "Premium Quality \u2013 XL")


def test_related_ids_ride_along_with_a_real_change():
    c = Chain(derive_product_events)
    c.deliver(product(1, related_ids=[9, 3]), "product.created")
    assert c.events[-1].envelope.data["related_ids"] == [3, 9]
    c.deliver(product(2, related_ids=[5, 3, 3]), "product.updated")  # a new random pick: not news
    assert len(c.events) == 1
    c.deliver(product(3, related_ids=[7], price="5.00"), "product.updated")
    assert (len(c.events), c.events[-1].envelope.data["related_ids"]) == (2, [7])


def test_usage_period_comes_from_the_product_meta():
    def with_usage(minute, value):
        return product(minute, meta_data=[{"id": 1, "key": "_aftercart_usage_period_days", "value": value}])

    c = Chain(derive_product_events)
    c.deliver(product(1), "product.created")
    assert c.events[-1].envelope.data["usage_period_days"] is None
    c.deliver(with_usage(2, "30"), "product.updated")  # setting it is news
    assert (len(c.events), c.events[-1].envelope.data["usage_period_days"]) == (2, 30)
    c.deliver(with_usage(3, "thirty"), "product.updated")  # not a number of days: unset again
    assert (len(c.events), c.events[-1].envelope.data["usage_period_days"]) == (3, None)
