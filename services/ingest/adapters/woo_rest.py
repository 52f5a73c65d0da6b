"""WooRestClient: the WooCommerce REST API calls ingest makes (reconcile, refunds, webhook health).

Auth (adapters/woo_auth.py), as WooCommerce decides by the scheme: HTTP Basic with the consumer
key/secret over https; OAuth 1.0a signatures (oauthlib, oauth_* in the query string) over plain
http, where the secret itself never travels. The consumer secret is never in a URL; the signed
URL's consumer key stays out of the logs (httpx's request log is kept at WARNING).
TLS: the system's CAs, or what the store names to trust (its CA bundle, a pinned certificate
fingerprint: adapters/tls_trust.py).
"""
from __future__ import annotations

import re
import socket
import ssl
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx

from services.ingest.adapters.tls_trust import ssl_context
from services.ingest.adapters.woo_auth import auth_for
from services.ingest.domain.stores import Store

PER_PAGE = 100  # WooCommerce's maximum
NO_SUCH_ORDER = "woocommerce_rest_shop_order_invalid_id"  # GET /orders/<id> of an order that doesn't exist


class WooRestError(Exception):
    """The store answered, but not with what was asked (status, WP error code, or shape)."""

    def __init__(self, message: str, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code = status, code or None


# What a call to the store may raise: its answer was wrong (WooRestError), or it could not be reached.
FAILURES = (WooRestError, httpx.HTTPError)

_URL_CREDENTIALS = re.compile(r"(?i)([a-z][a-z0-9+.-]*://)[^/@\s]*@")
_SECRETISH = re.compile(r"(?i)\b(c[ks]_[0-9a-z]+|oauth_[a-z_]+=[^&\s]+|consumer_(key|secret)=[^&\s]+)")


def _clean(text: str, limit: int = 200) -> str:
    """An error text as a log may hold it: no URL credentials, no consumer key/secret, bounded."""
    return _SECRETISH.sub("[redacted]", _URL_CREDENTIALS.sub(r"\1[redacted]@", text))[:limit]


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    while exc is not None and exc not in seen and len(seen) < 10:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def failure(exc: BaseException) -> dict[str, object]:
    """Why a call to a store failed, for a log line or a summary, without secrets: `error` (the
    exception's type), `cause` (tls_verify_failed, tls, dns, connection_refused, timeout,
    http_status, bad_answer, refused_url, network, or the type for anything else), `reason` (the
    underlying text, e.g. "CERTIFICATE_VERIFY_FAILED: self-signed certificate", "[Errno -2] Name or
    service not known", "GET /orders → 401 woocommerce_rest_authentication_error"), and for an
    HTTP answer its `status` and WooCommerce's error `code`."""
    out: dict[str, object] = {"error": type(exc).__name__}
    if isinstance(exc, WooRestError):
        if exc.status is not None:
            out.update(cause="http_status", status=exc.status)
            if exc.code:
                out["code"] = exc.code
        elif str(exc).startswith("REST URL must be"):
            out["cause"] = "refused_url"
        else:
            out["cause"] = "bad_answer"
        out["reason"] = _clean(str(exc))
        return out
    chain = _chain(exc)
    verify = next((e for e in chain if isinstance(e, ssl.SSLCertVerificationError)), None)
    tls = next((e for e in chain if isinstance(e, ssl.SSLError)), None)
    dns = next((e for e in chain if isinstance(e, socket.gaierror)), None)
    refused = next((e for e in chain if isinstance(e, ConnectionRefusedError)), None)
    if verify is not None:
        out.update(cause="tls_verify_failed",
                   reason=_clean(f"{getattr(verify, 'reason', None) or 'CERTIFICATE_VERIFY_FAILED'}:"
                                 f" {getattr(verify, 'verify_message', None) or verify}"))
    elif dns is not None:
        out.update(cause="dns", reason=_clean(str(dns)))
    elif isinstance(exc, httpx.TimeoutException) or any(isinstance(e, TimeoutError) for e in chain):
        phase = {httpx.ConnectTimeout: "connect", httpx.ReadTimeout: "read", httpx.WriteTimeout: "write",
                 httpx.PoolTimeout: "pool"}.get(type(exc), "")
        out.update(cause="timeout", reason=_clean(f"{phase} timeout".strip() + (f": {exc}" if str(exc) else "")))
    elif tls is not None:
        code = getattr(tls, "reason", None)
        out.update(cause="tls", reason=_clean(f"{code}: {tls}" if code else str(tls)))
    elif refused is not None or "connection refused" in " ".join(str(e).lower() for e in chain):
        out.update(cause="connection_refused", reason=_clean(str(refused or exc)))
    elif isinstance(exc, httpx.HTTPError):
        out.update(cause="network", reason=_clean("; ".join(str(e) for e in chain if str(e)) or type(exc).__name__))
    else:
        out.update(cause=type(exc).__name__, reason=_clean(str(exc)))
    return out


def describe(exc: BaseException) -> str:
    """failure() as one line: "ConnectError: tls_verify_failed (CERTIFICATE_VERIFY_FAILED: …)"."""
    f = failure(exc)
    return f"{f['error']}: {f['cause']} ({f['reason']})" if f.get("reason") else f"{f['error']}: {f['cause']}"


class WooRestClient:
    def __init__(self, base_url: str, consumer_key: str, consumer_secret: str, timeout_s: float = 20.0,
                 transport: httpx.AsyncBaseTransport | None = None, ca_bundle: str | None = None,
                 cert_sha256: str | None = None) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("https", "http"):
            raise WooRestError(f"REST URL must be https or http (got {parts.scheme}://{parts.hostname})")
        self.base = base_url.rstrip("/") + "/wp-json/wc/v3"
        # A bundle or pin only matters over https; a bad bundle raises ssl.SSLError here (checked
        # at registration already, domain/tls_trust.py).
        verify = ssl_context(ca_bundle, cert_sha256) if parts.scheme == "https" else True
        self._http = httpx.AsyncClient(timeout=timeout_s, transport=transport, follow_redirects=False,
                                       auth=auth_for(parts.scheme, consumer_key, consumer_secret), verify=verify)

    async def close(self) -> None:
        await self._http.aclose()

    async def _get(self, path: str, params: dict | None = None) -> httpx.Response:
        resp = await self._http.get(self.base + path, params=params)
        if resp.status_code != 200:
            code = ""
            if resp.headers.get("content-type", "").startswith("application/json"):
                try:
                    body = resp.json()
                    code = str(body.get("code", "")) if isinstance(body, dict) else ""
                except ValueError:
                    pass
            raise WooRestError(f"GET {path} → {resp.status_code} {code}".rstrip(), resp.status_code, code)
        return resp

    async def _json(self, path: str, params: dict | None = None) -> tuple[object, httpx.Response]:
        resp = await self._get(path, params)
        try:
            return resp.json(), resp
        except ValueError as exc:  # a PHP notice or an HTML page in front of the JSON
            raise WooRestError(f"GET {path} → not JSON") from exc

    async def pages(self, path: str, params: dict) -> AsyncIterator[list[dict]]:
        """Every page of a collection, following X-WP-TotalPages (re-read on each page: it grows
        if resources are added while we page)."""
        page = 1
        while True:
            body, resp = await self._json(path, {**params, "page": page, "per_page": PER_PAGE})
            if not isinstance(body, list):
                raise WooRestError(f"GET {path} → not a list")
            items = [item for item in body if isinstance(item, dict)]
            if items:
                yield items
            total_pages = int(resp.headers.get("x-wp-totalpages", "1") or 1)
            if not body or page >= total_pages:
                return
            page += 1

    def modified_since(self, resource: str, modified_after: str | None, status: str | None = None
                       ) -> AsyncIterator[list[dict]]:
        """Orders or products modified after a UTC time (None: all), newest first.

        Newest first on purpose: a resource saved while we page moves to page 1 (already read), so
        the rest shift one place *later* and one is read twice (the snapshot diff drops it). Oldest
        first would shift them *earlier* and silently skip one, below the cursor for good.
        """
        params = {"orderby": "modified", "order": "desc"}
        if modified_after is not None:
            params.update(modified_after=modified_after, dates_are_gmt="true")
        if status is not None:
            params["status"] = status
        return self.pages(f"/{resource}", params)

    def customers(self) -> AsyncIterator[list[dict]]:
        # WooCommerce's customers endpoint has no modified_after: a full scan it is. Every role,
        # as customer.created/updated webhooks fire for every role too.
        return self.pages("/customers", {"orderby": "id", "order": "asc", "role": "all"})

    async def refund(self, order_id: int, refund_id: int) -> dict:
        body, _ = await self._json(f"/orders/{order_id}/refunds/{refund_id}")
        if not isinstance(body, dict):
            raise WooRestError(f"refund {refund_id} → not an object")
        return body

    async def listed_orders(self, ids: list[int], status: str | None = None) -> set[int]:
        """Which of `ids` (at most PER_PAGE) the orders listing holds: any status but trash, or
        `status` (e.g. "trash"). Only their ids are read."""
        params = {"include": ",".join(map(str, ids)), "_fields": "id"}
        if status is not None:
            params["status"] = status
        found: set[int] = set()
        async for page in self.pages("/orders", params):
            found.update(int(o["id"]) for o in page if str(o.get("id", "")).isdigit())
        return found

    async def order_exists(self, order_id: int) -> bool:
        """False only for WooCommerce's own "no such order" 404 (a wrong URL's 404 is rest_no_route,
        and raises like every other failure)."""
        try:
            await self._get(f"/orders/{order_id}", {"_fields": "id"})
        except WooRestError as exc:
            if exc.status == 404 and exc.code == NO_SUCH_ORDER:
                return False
            raise
        return True

    async def webhooks(self) -> list[dict]:
        out: list[dict] = []
        async for page in self.pages("/webhooks", {"status": "all"}):
            out.extend(page)
        return out


def client_for(store: Store) -> WooRestClient | None:
    """The store's REST client, or None when it has no REST URL or credentials. Raises
    WooRestError for a URL it can't use (neither https nor http)."""
    if not store.has_rest_access:
        return None
    return WooRestClient(store.rest_url, store.consumer_key, store.consumer_secret,
                         ca_bundle=store.rest_ca_bundle, cert_sha256=store.rest_cert_sha256)
