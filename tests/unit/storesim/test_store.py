"""Store mutations behave like WooCommerce and keep the real payload shapes."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from deploy.local.storesim import SimClock, Store, WCError

from tests.support.storesim import fixture

ORDER_KEYS = list(fixture("order.v3.docs.json"))[:-1] + [  # minus _links
    "payment_url", "is_editable", "needs_payment", "needs_processing", "currency_symbol"]


@pytest.fixture
def events(store):
    seen: list[tuple[str, int]] = []
    store.subscribe(lambda topic, arg: seen.append((topic, arg)))
    return seen


def _setup(store):
    product = store.create_product("Premium Quality", "10.80", sku="POSTER-PREMIUM-QUALITY")
    customer = store.create_customer("pamela@example.com", "Pamela", "Nguyen",
                                     billing={"city": "Washington", "country": "US"})
    return product, customer


def test_order_shape_and_lifecycle(store, events):
    product, customer = _setup(store)
    order = store.create_order([(product["id"], 3)], customer_id=customer["id"], shipping_total="54.25")
    assert list(order) == ORDER_KEYS
    assert list(store.order_view(order["id"])) == ORDER_KEYS + ["_links"]
    item = order["line_items"][0]
    assert list(item)[:14] == list(fixture("order.v3.docs.json")["line_items"][0])
    assert item["total"] == "32.40" and item["price"] == 10.799999999999999  # PHP float division
    assert order["total"] == "86.65" and order["status"] == "pending"
    assert order["billing"]["email"] == "pamela@example.com" and order["customer_id"] == customer["id"]
    assert order["needs_payment"] is True and order["is_editable"] is True
    assert order["date_paid"] is None

    store.pay_order(order["id"], transaction_id="ch_1")
    assert order["status"] == "processing" and order["transaction_id"] == "ch_1"
    assert order["date_paid_gmt"] == order["date_modified_gmt"]
    assert order["needs_payment"] is False and order["is_editable"] is False
    assert store.customers[customer["id"]]["is_paying_customer"] is True

    store.set_order_status(order["id"], "completed")
    assert order["date_completed_gmt"] == order["date_modified_gmt"] > order["date_paid_gmt"]
    assert events == [("product.created", product["id"]), ("customer.created", customer["id"]),
                      ("order.created", order["id"]), ("order.updated", order["id"]),
                      ("customer.updated", customer["id"]), ("order.updated", order["id"])]


def test_guest_order(store):
    product, _ = _setup(store)
    order = store.create_order([(product["id"], 1)], billing={
        "first_name": "Jos\u00e9", "email": "jose@example.net", "country": "ES"})
    view = store.order_view(order["id"])
    assert order["customer_id"] == 0 and "customer" not in view["_links"]
    assert order["shipping"]["first_name"] == "Jos\u00e9" and "email" not in order["shipping"]
    with pytest.raises(ValueError):
        store.create_order([(product["id"], 1)])


def test_shipment_tracking_meta_like_the_fixture(store):
    product, customer = _setup(store)
    order = store.create_order([(product["id"], 1)], customer_id=customer["id"])
    store.add_shipment_tracking(order["id"], "117579686762", tracking_provider="fedex",
                                date_shipped=datetime(2019, 8, 20, tzinfo=UTC).date())
    store.add_shipment_tracking(order["id"], "1Z999", tracking_provider="ups")
    real = next(m for m in fixture("order-partially-refunded.ios-fixture.json")["meta_data"]
                if m["key"] == "_wc_shipment_tracking_items")
    meta = [m for m in order["meta_data"] if m["key"] == "_wc_shipment_tracking_items"]
    assert len(meta) == 1 and list(meta[0]) == list(real)
    first, second = meta[0]["value"]
    assert list(first) == list(real["value"][0])
    assert first["date_shipped"] == real["value"][0]["date_shipped"] == "1566259200"
    assert first["custom_tracking_provider"] is None and len(first["tracking_id"]) == 32
    assert second["tracking_number"] == "1Z999"


def test_partial_then_full_refund(store, events):
    product, customer = _setup(store)
    order = store.create_order([(product["id"], 3)], customer_id=customer["id"], shipping_total="5")
    store.pay_order(order["id"])
    line = order["line_items"][0]
    first = store.refund_order(order["id"], line_items=[(line["id"], 1)], reason="Sold out")
    assert order["status"] == "processing" and order["total"] == "37.40"  # unchanged
    assert order["refunds"] == [{"id": first["id"], "reason": "Sold out", "total": "-10.80"}]
    assert first["amount"] == "10.80"
    refund_line = first["line_items"][0]
    assert refund_line["quantity"] == -1 and refund_line["total"] == "-10.80"
    assert refund_line["meta_data"][0]["key"] == "_refunded_item_id"
    assert refund_line["meta_data"][0]["value"] == str(line["id"])
    assert list(store.refund_view(first["id"]))[:9] == list(fixture("refund.ios-fixture.json"))[:9]

    second = store.refund_order(order["id"], "8.10")
    assert [r["id"] for r in order["refunds"]] == [second["id"], first["id"]]  # newest first
    assert order["status"] == "processing"
    net = float(order["total"]) + sum(float(r["total"]) for r in order["refunds"])
    assert round(net, 2) == 18.50

    with pytest.raises(WCError):
        store.refund_order(order["id"], "100.00")
    full = store.refund_order(order["id"], reason="Order fully refunded")
    assert full["amount"] == "18.50" and order["status"] == "refunded"
    assert order["refunds"][0] == {"id": full["id"], "reason": "Order fully refunded", "total": "-18.50"}
    assert events[-3:] == [("order.updated", order["id"])] * 3


def test_trash_untrash_and_hard_delete(store, events):
    product, customer = _setup(store)
    order = store.create_order([(product["id"], 1)], customer_id=customer["id"])
    store.set_order_status(order["id"], "on-hold")
    store.trash_order(order["id"])
    assert order["status"] == "trash"
    store.untrash_order(order["id"])
    assert order["status"] == "on-hold"
    store.delete_order(order["id"])
    assert store.order_view(order["id"]) is None
    # The hard delete adds nothing after order.restored.
    assert events[-3:] == [("order.updated", order["id"]), ("order.deleted", order["id"]),
                           ("order.restored", order["id"])]


def test_customer_update_and_delete(store, events):
    product, customer = _setup(store)
    order = store.create_order([(product["id"], 1)], customer_id=customer["id"])
    before = customer["date_modified_gmt"]
    store.update_customer(customer["id"], billing={"city": "Baltimore"}, first_name="Pam")
    assert customer["billing"]["city"] == "Baltimore" and customer["billing"]["country"] == "US"
    assert customer["first_name"] == "Pam" and customer["date_modified_gmt"] > before
    assert list(customer) == list(fixture("customer.v3.docs.json"))[:-1]
    store.delete_customer(customer["id"])
    assert store.customer_view(customer["id"]) is None
    assert order["customer_id"] == 0  # wc_reset_order_customer_id_on_deleted_user
    assert events[-2:] == [("customer.updated", customer["id"]), ("customer.deleted", customer["id"])]
    manager = store.create_customer("boss@example.com", role="shop_manager")
    store.delete_customer(manager["id"])
    assert events[-1] == ("customer.created", manager["id"])  # no customer.deleted for non-customers


def test_product_shape_update_and_trash(store, events):
    product = store.create_product("Premium Quality", "21.99", categories=["Clothing", "T-shirts"],
                                   image_src="https://demo-store.example/wp-content/uploads/t.jpg")
    assert list(product) == list(fixture("product.v3.docs.json"))[:-1]
    assert product["categories"][1] == {"id": 10, "name": "T-shirts", "slug": "t-shirts"}
    store.update_product(product["id"], sale_price="17.5")
    assert product["price"] == "17.50" and product["on_sale"] is True
    assert "17.50" in product["price_html"]
    store.delete_product(product["id"])
    assert product["status"] == "trash"
    store.restore_product(product["id"])
    assert product["status"] == "publish"
    assert [t for t, _ in events] == ["product.created", "product.updated", "product.deleted",
                                      "product.restored"]


def test_date_modified_strictly_increases_even_with_a_frozen_clock():
    frozen = datetime(2025, 6, 2, 7, 0, 0, tzinfo=UTC)
    store = Store(clock=lambda: frozen)
    product = store.create_product("Tee", "20")
    order = store.create_order([(product["id"], 1)], billing={"email": "a@example.com"})
    stamps = [order["date_modified_gmt"]]
    for status in ("processing", "on-hold", "processing", "completed"):
        store.set_order_status(order["id"], status)
        stamps.append(order["date_modified_gmt"])
    assert stamps == sorted(set(stamps))
    assert stamps[0] == "2025-06-02T07:00:00" and stamps[-1] == "2025-06-02T07:00:04"
    assert order["date_modified"] == "2025-06-02T09:00:04"  # site time, UTC+2


def test_sim_clock_is_deterministic():
    def run():
        store = Store(clock=SimClock(), seed=7)
        product = store.create_product("Tee", "20")
        return store.create_order([(product["id"], 1)], billing={"email": "a@example.com"})
    assert run() == run()
