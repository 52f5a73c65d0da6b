"""WooRestClient: the WooCommerce REST API calls ingest makes (reconcile, refunds, webhook health).

Auth: HTTP Basic with the consumer key/secret, which WooCommerce accepts over HTTPS. Plain-HTTP
stores need OAuth 1.0a, which this client doesn't speak; the one exception is a loopback store
(the local simulator), where the key/secret go as query parameters as WooCommerce allows.
"""
from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx


class WooRestError(Exception):
    pass


class WooRestClient:
    def __init__(self, base_url: str, consumer_key: str, consumer_secret: str, timeout_s: float = 20.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.base = base_url.rstrip("/") + "/wp-json/wc/v3"
        parts = urlsplit(base_url)
        self._query_auth = parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")
        self._auth = (consumer_key, consumer_secret)
        self._http = httpx.AsyncClient(timeout=timeout_s, transport=transport, follow_redirects=False,
                                       auth=None if self._query_auth else self._auth)

    async def close(self) -> None:
        await self._http.aclose()

    async def _get(self, path: str, params: dict | None = None) -> httpx.Response:
        params = dict(params or {})
        if self._query_auth:
            params.update(consumer_key=self._auth[0], consumer_secret=self._auth[1])
        resp = await self._http.get(self.base + path, params=params)
        if resp.status_code != 200:
            code = resp.json().get("code", "") if resp.headers.get("content-type", "").startswith(
                "application/json") else ""
            raise WooRestError(f"GET {path} → {resp.status_code} {code}")
        return resp

    async def pages(self, path: str, params: dict) -> AsyncIterator[list[dict]]:
        """Every page of a collection, following X-WP-TotalPages."""
        page = 1
        while True:
            resp = await self._get(path, {**params, "page": page, "per_page": 100})
            yield resp.json()
            total_pages = int(resp.headers.get("x-wp-totalpages", "1") or 1)
            if page >= total_pages:
                return
            page += 1

    def modified_since(self, resource: str, modified_after: str) -> AsyncIterator[list[dict]]:
        return self.pages(f"/{resource}", {"modified_after": modified_after, "dates_are_gmt": "true",
                                           "orderby": "modified", "order": "asc"})

    def customers(self) -> AsyncIterator[list[dict]]:
        # WooCommerce's customers endpoint has no modified_after: a full scan it is.
        return self.pages("/customers", {"orderby": "id", "order": "asc", "role": "all"})

    async def refund(self, order_id: int, refund_id: int) -> dict:
        return (await self._get(f"/orders/{order_id}/refunds/{refund_id}")).json()

    async def webhooks(self) -> list[dict]:
        out: list[dict] = []
        async for page in self.pages("/webhooks", {"status": "all"}):
            out.extend(page)
        return out
