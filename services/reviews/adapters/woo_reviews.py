"""WooReviews: product reviews over a store's WooCommerce REST API (httpx) — `create` posts one,
`find` lists a product's reviews by one reviewer (the idempotency guard after a lost answer).
Every failure becomes PublishRefused with WooCommerce's code and the HTTP status, never the
credentials. Basic auth, as WooCommerce takes it over HTTPS (and the local store simulator over http).
tests/support/fakes/reviews.py's FakeWooReviews is its in-memory twin."""
from __future__ import annotations

import httpx

from services.reviews.domain.publication import PublishRefused, is_temporary
from services.reviews.domain.stores import StoreAccess

API = "wp-json/wc/v3/products/reviews"


class WooReviews:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def _call(self, access: StoreAccess, method: str, **kwargs) -> httpx.Response:
        url = f"{access.rest_url.rstrip('/')}/{API}"
        try:
            r = await self.client.request(method, url, auth=(access.consumer_key, access.consumer_secret), **kwargs)
        except httpx.HTTPError as exc:  # no answer: timeouts, refused connections, TLS
            raise PublishRefused(f"{method} products/reviews: {type(exc).__name__}", temporary=True) from None
        if r.status_code >= 400:
            try:
                code = str(r.json().get("code") or "")
            except ValueError:
                code = ""
            raise PublishRefused(f"{method} products/reviews → {r.status_code} {code}".strip(),
                                 temporary=is_temporary(r.status_code), status=r.status_code, code=code or None)
        return r

    async def create(self, access: StoreAccess, body: dict) -> dict:
        return (await self._call(access, "POST", json=body)).json()

    async def find(self, access: StoreAccess, product_id: int, reviewer_email: str) -> list[dict]:
        r = await self._call(access, "GET", params={"product": product_id, "reviewer_email": reviewer_email,
                                                    "status": "all", "context": "edit", "per_page": 100})
        return list(r.json())
