"""POST /coupons refuses what WooCommerce's schema refuses (wrong types, all reported at once as
rest_invalid_param), drops an email restriction that isn't an address (sanitize_email()) rather
than refusing it, and asks for a key with write permission."""
from __future__ import annotations

import httpx

from deploy.local.storesim.rest_api import create_app
from tests.support.storesim import API, api_client

GOOD = {"code": "LOY-ABC", "discount_type": "fixed_cart", "amount": "5.00", "email_restrictions": ["ana@example.com"],
        "usage_limit": 1, "usage_limit_per_user": 1, "date_expires": "2026-06-01T00:00:00", "minimum_amount": "15.00",
        "individual_use": True}


async def test_the_loyalty_coupon_is_created_as_sent(store):
    async with api_client(store) as client:
        r = await client.post(API + "/coupons", json=GOOD)
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["code"], body["amount"], body["minimum_amount"], body["usage_limit"], body["usage_limit_per_user"],
            body["email_restrictions"], body["individual_use"], body["date_expires"]) == (
        "loy-abc", "5.00", "15.00", 1, 1, ["ana@example.com"], True, "2026-06-01T00:00:00")


async def test_wrong_types_are_refused_all_at_once_and_nothing_is_created(store):
    bad = {**GOOD, "amount": 5, "usage_limit": "one", "individual_use": "maybe", "email_restrictions": "ana@x.io",
           "date_expires": "next week", "minimum_amount": 15}
    async with api_client(store) as client:
        r = await client.post(API + "/coupons", json=bad)
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "rest_invalid_param"
    assert set(body["data"]["params"]) == {"amount", "usage_limit", "individual_use", "email_restrictions",
                                           "date_expires", "minimum_amount"}
    assert body["data"]["params"]["amount"] == "amount is not of type string."
    assert store.coupons == {}


async def test_an_invalid_email_is_dropped_not_refused(store):
    async with api_client(store) as client:
        r = await client.post(API + "/coupons", json={**GOOD, "email_restrictions": ["not an email", "bo@example.com"]})
    assert r.status_code == 201 and r.json()["email_restrictions"] == ["bo@example.com"]


async def test_a_read_only_key_cannot_create_and_a_wrong_secret_is_refused(store):
    store.add_api_key("ck_read", "cs_read", permissions="read")
    store.add_api_key("ck_write", "cs_write")
    app = create_app(store)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
        read_only = await client.post(API + "/coupons", json=GOOD, auth=("ck_read", "cs_read"))
        wrong = await client.post(API + "/coupons", json=GOOD, auth=("ck_write", "nope"))
        anonymous = await client.post(API + "/coupons", json=GOOD)
    assert (read_only.status_code, read_only.json()["code"]) == (401, "woocommerce_rest_authentication_error")
    assert (wrong.status_code, wrong.json()["code"]) == (401, "woocommerce_rest_authentication_error")
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "woocommerce_rest_cannot_create")
    assert store.coupons == {}
