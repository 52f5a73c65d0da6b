"""WooCoupons: the two WooCommerce REST calls redemption makes — find a coupon by its code, create
one (POST /wp-json/wc/v3/coupons). HTTP Basic with the store's consumer key/secret, which
WooCommerce accepts over HTTPS; plain http only on loopback (the store simulator), as ingest's
client. The key and secret are never logged: errors carry the status and WooCommerce's code only.

Two failures, because they call for opposite actions: WooUnavailable (not reached, timed out, 5xx,
429 — the coupon may or may not exist: keep the points held and try again) and WooRefused (the
store answered no — return the points)."""
from __future__ import annotations

from urllib.parse import urlsplit

import httpx

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


class WooUnavailable(Exception):
    pass


class WooRefused(Exception):
    def __init__(self, status: int, code: str) -> None:
        super().__init__(f"{status} {code}")
        self.status, self.code = status, code


class WooCoupons:
    def __init__(self, base_url: str, consumer_key: str, consumer_secret: str, timeout_s: float = 10.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in _LOOPBACK):
            raise ValueError(f"REST URL must be https (got {parts.scheme}://{parts.hostname})")
        self.base = base_url.rstrip("/") + "/wp-json/wc/v3"
        self._http = httpx.AsyncClient(timeout=timeout_s, transport=transport, follow_redirects=False,
                                       auth=(consumer_key, consumer_secret))

    async def close(self) -> None:
        await self._http.aclose()

    async def _call(self, method: str, path: str, **kwargs) -> object:
        try:
            resp = await self._http.request(method, self.base + path, **kwargs)
        except httpx.HTTPError as exc:
            raise WooUnavailable(type(exc).__name__) from exc
        if resp.status_code >= 500 or resp.status_code == 429:
            raise WooUnavailable(f"HTTP {resp.status_code}")
        try:
            body = resp.json()
        except ValueError:
            raise WooUnavailable(f"HTTP {resp.status_code}: not JSON") from None
        if resp.status_code >= 400:
            code = str(body.get("code", "")) if isinstance(body, dict) else ""
            raise WooRefused(resp.status_code, code)
        return body

    async def find_by_code(self, code: str) -> dict | None:
        body = await self._call("GET", "/coupons", params={"code": code})
        if not isinstance(body, list):
            raise WooUnavailable("coupon lookup: not a list")
        return next((c for c in body if isinstance(c, dict) and c.get("code") == code), None)

    async def create(self, body: dict) -> dict:
        created = await self._call("POST", "/coupons", json=body)
        if not isinstance(created, dict) or not isinstance(created.get("id"), int):
            raise WooUnavailable("coupon create: no id in the answer")
        return created
