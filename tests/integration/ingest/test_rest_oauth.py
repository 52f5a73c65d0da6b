"""A store whose REST URL is plain http is reconciled with OAuth 1.0a signatures (issue 15, point 2):
ingest's real client against the store simulator served over a real socket, which (like WooCommerce
over http) logs in only a signed request and checks it as WooCommerce does. Each refusal WooCommerce
makes — a bad signature, a nonce used twice, a timestamp outside 15 minutes, Basic over http — is
made here over the wire, with WooCommerce's code and status."""
from __future__ import annotations

import time

import httpx
import orjson
import pytest
from oauthlib.oauth1 import SIGNATURE_TYPE_QUERY, Client

from services.ingest.adapters.woo_rest import WooRestClient, WooRestError, client_for, failure
from tests.integration.ingest.conftest import SIM_CK, SIM_CS, TOKEN

AUTH_ERROR = "woocommerce_rest_authentication_error"


async def test_reconcile_over_plain_http_signs_every_request_and_imports_the_store(ingest, rest_store, uid, capfd):
    s = rest_store.store
    mug = s.create_product("Mug", "12.00", sku=f"MUG-{uid}")
    ada = s.create_customer(f"ada-{uid}@example.com", "Ada", "Lovelace")
    order = s.create_order([(mug["id"], 2)], customer_id=ada["id"])
    s.pay_order(order["id"])
    assert rest_store.url.startswith("http://")

    reconciler = ingest.app.state.service.reconciler
    store = await reconciler.stores.get(ingest.store_id)
    client = client_for(store)
    try:
        summary = await reconciler.store(store, client)
    finally:
        await client.close()

    assert summary["order"] == {"applied": 1} and summary["product"] == {"applied": 1}, summary
    assert summary["customer"] == {"applied": 1}, summary
    types = [e["type"] for e in await ingest.events_of(f"order/{order['id']}")]
    assert types == ["order.placed", "order.paid"], types
    # Every request was an OAuth one: each spent a nonce (Basic would have been "not logged in").
    assert s.api_keys[SIM_CK].nonces
    out, err = capfd.readouterr()
    assert SIM_CS not in out + err and SIM_CK not in out + err  # nor the signed URLs


def _signed(url: str, secret: str = SIM_CS, **kwargs) -> str:
    return Client(SIM_CK, client_secret=secret, signature_type=SIGNATURE_TYPE_QUERY, **kwargs).sign(url, "GET")[0]


async def _refusal(url: str, **headers) -> tuple[int, dict]:
    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.get(url, headers=headers)
    return r.status_code, r.json()


async def test_a_wrong_consumer_secret_is_a_bad_signature(storesim):
    client = WooRestClient(storesim.url, SIM_CK, "cs_not_the_secret")
    try:
        with pytest.raises(WooRestError) as refused:
            await client.webhooks()
    finally:
        await client.close()
    assert (refused.value.status, refused.value.code) == (401, AUTH_ERROR)
    assert failure(refused.value)["cause"] == "http_status"
    status, body = await _refusal(_signed(f"{storesim.url}/wp-json/wc/v3/webhooks", secret="cs_not_the_secret"))
    assert (status, body["code"], body["message"]) == (401, AUTH_ERROR,
                                                       "Invalid signature - provided signature does not match.")


async def test_a_reused_nonce_is_refused(storesim, uid):
    url = f"{storesim.url}/wp-json/wc/v3/webhooks"
    first = await _refusal(_signed(url, nonce=f"nonce{uid}"))
    assert first[0] == 200, first
    status, body = await _refusal(_signed(url + "?status=all", nonce=f"nonce{uid}"))
    assert (status, body["code"], body["message"]) == (401, AUTH_ERROR, "Invalid nonce - nonce has already been used.")


@pytest.mark.parametrize("minutes", [-16, 16])
async def test_a_stale_or_future_timestamp_is_refused(storesim, minutes):
    stamp = str(int(time.time()) + minutes * 60)
    status, body = await _refusal(_signed(f"{storesim.url}/wp-json/wc/v3/webhooks", timestamp=stamp))
    assert (status, body["code"], body["message"]) == (401, AUTH_ERROR, "Invalid timestamp.")
    assert body["data"] == {"status": 401}


async def test_basic_over_plain_http_is_not_a_login(storesim):
    url = f"{storesim.url}/wp-json/wc/v3/webhooks"
    async with httpx.AsyncClient(timeout=10, auth=(SIM_CK, SIM_CS)) as http:
        r = await http.get(url)
    assert (r.status_code, r.json()["code"]) == (401, "woocommerce_rest_cannot_view")
    client = WooRestClient(storesim.url, SIM_CK, SIM_CS)  # ingest's client signs instead
    try:
        assert await client.webhooks() == []
    finally:
        await client.close()


async def test_a_store_registered_with_a_plain_http_rest_url_is_reconciled_by_the_scheduled_run(
        ingest, storesim, uid):
    sid = f"http-{uid}"
    r = await ingest.http.post("/stores", headers={"Authorization": f"Bearer {TOKEN}"}, json={
        "store_id": sid, "source_url": f"https://{sid}.example/", "webhook_secret": f"{sid}-secret-0123456789",
        "rest_url": storesim.url, "consumer_key": SIM_CK, "consumer_secret": SIM_CS})
    assert r.status_code == 201, r.text
    product = storesim.store.create_product("Cup", "3.00", sku=f"CUP-{uid}")
    try:
        results = await ingest.app.state.service.reconciler.all(store_ids=[sid])
    finally:
        await ingest.pool.execute("UPDATE stores SET rest_url = NULL, consumer_key = NULL, consumer_secret = NULL"
                                  " WHERE store_id = $1", sid)
    assert results[sid]["product"] == {"applied": 1}, results
    rows = await ingest.pool.fetch("SELECT payload FROM outbox WHERE source = $1 AND subject = $2",
                                   f"/stores/{sid}", f"product/{product['id']}")
    assert [orjson.loads(r["payload"])["type"] for r in rows] == ["product.upserted"]
