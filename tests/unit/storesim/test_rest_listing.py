"""Collections: paging headers, date filters, ordering, auth and error objects."""
from __future__ import annotations

import pytest

from deploy.local.storesim import Store

from tests.support.storesim import API, CK, CS, api_client

BASE = "https://demo-store.example/wp-json/wc/v3"


def _orders(store: Store, count: int) -> list[int]:
    product = store.create_product("Woo Ninja", "13.50")
    return [store.create_order([(product["id"], 1)], billing={"email": f"g{i}@example.com"})["id"]
            for i in range(count)]


async def test_paging_headers_for_25_orders(store):
    ids = _orders(store, 25)
    async with api_client(store) as client:
        pages = [await client.get(API + "/orders", params={"per_page": 10, "page": p})
                 for p in (1, 2, 3)]
    for response in pages:
        assert response.headers["X-WP-Total"] == "25"
        assert response.headers["X-WP-TotalPages"] == "3"
    assert pages[0].headers["Link"] == f'<{BASE}/orders?per_page=10&page=2>; rel="next"'
    assert pages[1].headers["Link"] == (f'<{BASE}/orders?per_page=10&page=1>; rel="prev", '
                                        f'<{BASE}/orders?per_page=10&page=3>; rel="next"')
    assert pages[2].headers["Link"] == f'<{BASE}/orders?per_page=10&page=2>; rel="prev"'
    got = [o["id"] for r in pages for o in r.json()]
    assert [len(r.json()) for r in pages] == [10, 10, 5]
    assert got == sorted(ids, reverse=True)  # default orderby=date, order=desc


async def test_default_per_page_offset_and_empty_page(store):
    ids = _orders(store, 12)
    async with api_client(store) as client:
        default = await client.get(API + "/orders")
        offset = await client.get(API + "/orders", params={"offset": 3, "per_page": 2, "order": "asc"})
        beyond = await client.get(API + "/orders", params={"page": 5})
    assert len(default.json()) == 10 and default.headers["X-WP-TotalPages"] == "2"
    assert [o["id"] for o in offset.json()] == ids[3:5]
    assert beyond.json() == [] and beyond.headers["X-WP-Total"] == "12"
    assert beyond.headers["Link"] == f'<{BASE}/orders?page=2>; rel="prev"'


async def test_link_keeps_query_params_unencoded(store):
    _orders(store, 3)
    async with api_client(store) as client:
        response = await client.get(API + "/orders", params={
            "modified_after": "2000-01-01T00:00:00", "dates_are_gmt": "true",
            "orderby": "modified", "order": "asc", "per_page": 1, "page": 2})
    # add_query_arg() keeps the request's order, does not percent-encode and replaces page.
    assert response.headers["Link"] == (
        f"<{BASE}/orders?modified_after=2000-01-01T00:00:00&dates_are_gmt=true&orderby=modified"
        f'&order=asc&per_page=1&page=1>; rel="prev", '
        f"<{BASE}/orders?modified_after=2000-01-01T00:00:00&dates_are_gmt=true&orderby=modified"
        f'&order=asc&per_page=1&page=3>; rel="next"')


async def test_modified_after_filters_gmt_and_local(store):
    ids = _orders(store, 3)
    store.set_order_status(ids[0], "cancelled")  # now the most recently modified
    cursor_gmt = store.orders[ids[2]]["date_modified_gmt"]
    cursor_local = store.orders[ids[2]]["date_modified"]
    assert cursor_gmt != cursor_local  # site is UTC+2
    async with api_client(store) as client:
        gmt = await client.get(API + "/orders", params={
            "modified_after": cursor_gmt, "dates_are_gmt": "true", "orderby": "modified", "order": "asc"})
        local = await client.get(API + "/orders", params={"modified_after": cursor_local})
        wrong_frame = await client.get(API + "/orders", params={"modified_after": cursor_gmt})
        zulu = await client.get(API + "/orders", params={"modified_after": cursor_gmt + "Z"})
        before = await client.get(API + "/orders", params={
            "modified_before": cursor_gmt, "dates_are_gmt": "1", "orderby": "id", "order": "asc"})
    assert [o["id"] for o in gmt.json()] == [ids[0]]  # exclusive bound
    assert gmt.headers["X-WP-Total"] == "1"
    assert [o["id"] for o in local.json()] == [ids[0]]
    # A GMT value read as local time is 2 h earlier: every order matches.
    assert len(wrong_frame.json()) == 3
    # An explicit offset is converted to the comparison frame.
    assert [o["id"] for o in zulu.json()] == [ids[0]]
    assert [o["id"] for o in before.json()] == [ids[1]]  # ids[0] moved past the cursor


async def test_orderby_modified_sweep_visits_each_order_once(store):
    ids = _orders(store, 5)
    store.pay_order(ids[1])
    store.pay_order(ids[3])
    cursor, seen = "2000-01-01T00:00:00", []
    async with api_client(store) as client:
        while True:
            page = (await client.get(API + "/orders", params={
                "modified_after": cursor, "dates_are_gmt": "true", "orderby": "modified",
                "order": "asc", "per_page": 2})).json()
            if not page:
                break
            seen += [o["id"] for o in page]
            cursor = page[-1]["date_modified_gmt"]
    assert seen == [ids[0], ids[2], ids[4], ids[1], ids[3]]


async def test_status_and_customer_filters(store):
    ids = _orders(store, 4)
    customer = store.create_customer("ana@example.com", "Ana", "Silva")
    mine = store.create_order([(store.orders[ids[0]]["line_items"][0]["product_id"], 1)],
                              customer_id=customer["id"])["id"]
    store.set_order_status(ids[0], "completed")
    store.trash_order(ids[1])
    async with api_client(store) as client:
        any_ = await client.get(API + "/orders")
        done = await client.get(API + "/orders", params={"status": "completed,trash"})
        brackets = await client.get(API + "/orders?status[]=trash")
        by_customer = await client.get(API + "/orders", params={"customer": customer["id"]})
        bad = await client.get(API + "/orders", params={"status": "shipped"})
        trashed = await client.get(API + f"/orders/{ids[1]}")
    assert ids[1] not in [o["id"] for o in any_.json()]
    assert sorted(o["id"] for o in done.json()) == [ids[0], ids[1]]
    assert [o["id"] for o in brackets.json()] == [ids[1]]
    assert [o["id"] for o in by_customer.json()] == [mine]
    assert bad.status_code == 400 and bad.json()["code"] == "rest_invalid_param"
    assert trashed.json()["status"] == "trash"


async def test_invalid_params_report_all(store):
    async with api_client(store) as client:
        response = await client.get(API + "/orders", params={
            "per_page": 101, "page": 0, "orderby": "price", "modified_after": "yesterday"})
    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "rest_invalid_param"
    assert body["data"]["status"] == 400
    assert set(body["data"]["params"]) == {"per_page", "page", "orderby", "modified_after"}
    assert body["data"]["params"]["per_page"] == \
        "per_page must be between 1 (inclusive) and 100 (inclusive)"
    assert body["data"]["details"]["modified_after"]["code"] == "rest_invalid_date"


async def test_missing_order_is_a_404_error_object(store):
    async with api_client(store) as client:
        missing = await client.get(API + "/orders/424242")
        no_route = await client.get(API + "/orders/abc")
    assert missing.status_code == 404
    assert missing.json() == {"code": "woocommerce_rest_shop_order_invalid_id",
                              "message": "Invalid ID.", "data": {"status": 404}}
    assert no_route.status_code == 404 and no_route.json()["code"] == "rest_no_route"


async def test_refund_endpoint(store):
    (order_id,) = _orders(store, 1)
    store.pay_order(order_id)
    refund = store.refund_order(order_id, "5.00", reason="Scratched")
    other = _orders(store, 1)[0]
    async with api_client(store) as client:
        ok = await client.get(API + f"/orders/{order_id}/refunds/{refund['id']}")
        listed = await client.get(API + f"/orders/{order_id}/refunds")
        wrong_parent = await client.get(API + f"/orders/{other}/refunds/{refund['id']}")
        missing = await client.get(API + f"/orders/{order_id}/refunds/999999")
    body = ok.json()
    assert body["amount"] == "5.00" and body["reason"] == "Scratched"
    assert list(body)[:9] == ["id", "date_created", "date_created_gmt", "amount", "reason",
                              "refunded_by", "refunded_payment", "meta_data", "line_items"]
    assert body["_links"]["up"] == [{"href": f"{BASE}/orders/{order_id}"}]
    assert [r["id"] for r in listed.json()] == [refund["id"]]
    assert wrong_parent.status_code == 404
    assert wrong_parent.json()["code"] == "woocommerce_rest_invalid_order_refund_id"
    assert missing.json()["code"] == "woocommerce_rest_shop_order_refund_invalid_id"


async def test_products_list_and_filters(store):
    tee = store.create_product("Tee", "20", sku="TEE")
    mug = store.create_product("Mug", "8", sku="MUG")
    store.update_product(mug["id"], regular_price="9")
    store.delete_product(tee["id"])
    async with api_client(store) as client:
        listed = await client.get(API + "/products")
        modified = await client.get(API + "/products", params={
            "modified_after": mug["date_created_gmt"], "dates_are_gmt": "true"})
        by_sku = await client.get(API + "/products", params={"sku": "MUG", "per_page": 1})
    assert [p["id"] for p in listed.json()] == [mug["id"]]  # trashed product hidden
    assert listed.headers["X-WP-Total"] == "1" and "Link" not in listed.headers
    assert [p["id"] for p in modified.json()] == [mug["id"]]
    assert by_sku.json()[0]["price"] == "9.00"


async def test_customers_have_no_modified_after(store):
    ana = store.create_customer("ana@example.com", "Ana", "Silva")
    bob = store.create_customer("bob@example.com", "Bob", "Adams")
    store.create_customer("shop@example.com", "Sam", "Manager", role="shop_manager")
    async with api_client(store) as client:
        future = await client.get(API + "/customers", params={"modified_after": "2100-01-01T00:00:00"})
        by_email = await client.get(API + "/customers", params={"email": "ANA@example.com"})
        all_roles = await client.get(API + "/customers", params={"role": "all", "orderby": "id"})
        paged = await client.get(API + "/customers", params={"per_page": 1})
    # WP_User_Query knows no modified_after: ignored, everyone comes back (sorted by name).
    assert [c["id"] for c in future.json()] == [ana["id"], bob["id"]]
    assert [c["id"] for c in by_email.json()] == [ana["id"]]
    assert len(all_roles.json()) == 3
    assert paged.headers["X-WP-TotalPages"] == "2"
    assert paged.headers["Link"] == f'<{BASE}/customers?per_page=1&page=2>; rel="next"'


@pytest.mark.parametrize("auth, params, code", [
    (None, {}, "woocommerce_rest_cannot_view"),
    (("ck_unknown", CS), {}, "woocommerce_rest_cannot_view"),
    ((CK, "cs_wrong"), {}, "woocommerce_rest_authentication_error"),
    (None, {"consumer_key": CK, "consumer_secret": "nope"}, "woocommerce_rest_authentication_error"),
])
async def test_bad_credentials_are_401(store, auth, params, code):
    async with api_client(store) as client:
        response = await client.get(API + "/orders", params=params, auth=auth)
    assert response.status_code == 401
    assert response.json()["code"] == code
    assert response.json()["data"] == {"status": 401}


async def test_query_string_credentials_and_read_only_keys(store):
    store.add_api_key("ck_read", "cs_read", permissions="read")
    async with api_client(store) as client:
        ok = await client.get(API + "/orders", params={"consumer_key": CK, "consumer_secret": CS},
                              auth=None)
        read = await client.get(API + "/orders", auth=("ck_read", "cs_read"))
        write = await client.post(API + "/coupons", json={"code": "x"}, auth=("ck_read", "cs_read"))
        anonymous_post = await client.post(API + "/coupons", json={"code": "x"}, auth=None)
    assert ok.status_code == 200 and read.status_code == 200
    assert write.status_code == 401
    assert write.json()["message"] == "The API key provided does not have write permissions."
    assert anonymous_post.json()["code"] == "woocommerce_rest_cannot_create"
