"""The store lookup cache at the webhook edge, against the real database: bounded in size (least
recently used stores go first) and in time (another instance's rotation is seen after the TTL);
X-WC-Webhook-* headers longer than any real one are refused (431) before any lookup; unknown
sources are remembered in a small bounded cache of their own."""
from __future__ import annotations

import asyncio

import pytest

from services.ingest.adapters.secret_box import SecretBox
from services.ingest.adapters.stores import PgStores
from services.ingest.config import DEV_SECRETS_KEY
from tests.integration.ingest.conftest import TOKEN
from tests.support.woo import deliver, order

HOOK = "/webhooks/woocommerce"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TTL_S, MAX_STORES, MAX_MISSES = 1.0, 3, 16


@pytest.fixture
def ingest_overrides() -> dict:
    return {"store_cache_ttl_s": TTL_S, "store_cache_max": MAX_STORES, "store_cache_misses": MAX_MISSES}


def _cached(ingest) -> tuple[int, int]:
    return ingest.app.state.service.stores.cached


async def _unsigned(ingest, **headers: str):
    return await ingest.http.post(HOOK, content=b'{"id": 1}', headers={
        "Content-Type": "application/json", "X-WC-Webhook-Topic": "order.created", **headers})


async def test_headers_longer_than_any_real_one_are_refused_before_any_lookup(ingest):
    before = _cached(ingest)
    for headers, name in (({"X-WC-Webhook-Source": "https://x.example/" + "a" * 3000}, "x-wc-webhook-source"),
                          ({"X-WC-Webhook-Source": ingest.source, "X-WC-Webhook-Signature": "s" * 300},
                           "x-wc-webhook-signature"),
                          ({"X-WC-Webhook-Source": ingest.source, "X-WC-Webhook-Delivery-ID": "1" * 257},
                           "x-wc-webhook-delivery-id")):
        r = await _unsigned(ingest, **headers)
        assert r.status_code == 431 and r.json()["error"] == "header_too_large", r.text
        assert name in r.json()["message"]
    assert _cached(ingest) == before  # nothing looked up, nothing remembered
    doc = (await ingest.http.get("/openapi.json")).json()
    assert "431" in doc["paths"][HOOK]["post"]["responses"]


async def test_unknown_sources_are_remembered_in_a_small_bounded_cache(ingest, uid):
    for i in range(10 * MAX_MISSES):
        r = await _unsigned(ingest, **{"X-WC-Webhook-Source": f"https://nobody-{uid}-{i}.example/" + "p" * 1900,
                                       "X-WC-Webhook-Signature": "forged"})
        assert r.status_code == 401
    assert _cached(ingest)[1] <= MAX_MISSES


async def test_the_cache_keeps_the_most_recently_used_stores_and_all_are_served(ingest, uid):
    stores = [(f"lru-{uid}-{i}", f"https://lru-{uid}-{i}.example/", f"lru-{uid}-{i}-secret-0123") for i in range(5)]
    for store_id, source, secret in stores:
        r = await ingest.http.post("/stores", headers=AUTH, json={"store_id": store_id, "source_url": source,
                                                                   "webhook_secret": secret})
        assert r.status_code == 201
    for _ in range(2):
        for _, source, secret in stores:
            r = await deliver(ingest.http, HOOK, source=source, secret=secret, topic="order.created", body=order(uid))
            assert r.status_code == 200, r.text
            assert _cached(ingest)[0] <= MAX_STORES


async def test_another_instance_s_rotation_is_seen_within_the_ttl(ingest, uid):
    async def status(secret: str) -> int:
        r = await deliver(ingest.http, HOOK, source=ingest.source, secret=secret, topic="order.created",
                          body=order(uid))
        return r.status_code

    assert await status(ingest.secret) == 200  # cached now
    other = PgStores(ingest.pool, SecretBox([DEV_SECRETS_KEY]))  # another ingest instance's registry
    new = f"other-{uid}-abcdefghij"
    await other.rotate_secret(ingest.store_id, new, 0)
    await asyncio.sleep(TTL_S + 0.2)
    assert [await status(new), await status(ingest.secret)] == [200, 401]
