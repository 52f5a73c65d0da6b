"""Ingest's REST client proves itself as WooCommerce expects by the scheme (adapters/woo_auth.py):
OAuth 1.0a query signatures over plain http, Basic over https — against the store simulator in
WooCommerce's strict mode (no Basic over http), through ASGI (no network)."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from deploy.local.storesim import Store, create_app
from services.ingest.adapters.woo_rest import WooRestClient, WooRestError

CK, CS = "ck_unit_auth", "cs_unit_auth_secret"


class Recording(httpx.ASGITransport):
    def __init__(self, app) -> None:
        super().__init__(app=app)
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await super().handle_async_request(request)


def _transport(store: Store) -> Recording:
    return Recording(create_app(store, consumer_key=CK, consumer_secret=CS, basic_over_http=False))


async def test_over_plain_http_every_request_is_signed_and_the_secret_never_sent():
    store = Store("http://shop.test/")
    for i in range(3):
        store.create_product(f"P{i}", "1.00", sku=f"P{i}")
    transport = _transport(store)
    client = WooRestClient("http://shop.test", CK, CS, transport=transport)
    try:
        pages = [page async for page in client.modified_since("products", "2020-01-01T00:00:00")]
        assert await client.webhooks() == []
    finally:
        await client.close()
    assert sum(len(p) for p in pages) == 3
    assert len(transport.requests) == 2
    nonces = set()
    for request in transport.requests:
        query = parse_qs(urlsplit(str(request.url)).query)
        assert query["oauth_consumer_key"] == [CK] and query["oauth_signature_method"] == ["HMAC-SHA1"]
        assert query["oauth_signature"] and query["oauth_timestamp"]
        nonces.update(query["oauth_nonce"])
        assert "authorization" not in request.headers
        assert CS not in str(request.url)
    assert len(nonces) == 2  # a fresh nonce per request
    # The listing's own parameters are signed along (and still reach the store).
    first = parse_qs(urlsplit(str(transport.requests[0].url)).query)
    assert first["modified_after"] == ["2020-01-01T00:00:00"] and first["dates_are_gmt"] == ["true"]


async def test_a_wrong_secret_over_http_is_woocommerces_bad_signature():
    client = WooRestClient("http://shop.test", CK, "cs_wrong", transport=_transport(Store("http://shop.test/")))
    try:
        with pytest.raises(WooRestError) as raised:
            await client.webhooks()
    finally:
        await client.close()
    assert (raised.value.status, raised.value.code) == (401, "woocommerce_rest_authentication_error")


async def test_over_https_basic_is_used_and_nothing_is_signed():
    transport = _transport(Store("https://shop.test/"))
    client = WooRestClient("https://shop.test", CK, CS, transport=transport)
    try:
        assert await client.webhooks() == []
    finally:
        await client.close()
    (request,) = transport.requests
    assert request.headers["authorization"].startswith("Basic ")
    assert "oauth_" not in str(request.url)
