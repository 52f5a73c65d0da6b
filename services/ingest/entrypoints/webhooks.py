"""POST /webhooks/woocommerce — deliveries exactly as WooCommerce sends them.

Order of checks: X-WC-Webhook-* header lengths → size → ping → store + signature over the raw
bytes → content type → JSON → the delivery pipeline (services/ingest/pipeline/: concurrent
deliveries share one atomic write, group_commit.py). Answers 200 only after the delivery is
committed; never a redirect (WooCommerce counts 3xx as delivered without following it). Unknown
store and bad signature look the same.

Every store's queue runner waits for this answer, so the route is served as plain ASGI
(`asgi_receive`, installed by api.py in front of FastAPI's middleware and routing, which cost
more per request than verifying a delivery); it finds the bootstrapped service at
`scope["app"].state.service`. The FastAPI route below documents it in OpenAPI and runs the same
code. No bearer token: WooCommerce authenticates each delivery by its HMAC signature.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import asyncpg
import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel

from services.ingest.adapters.signature import verify
from services.ingest.domain.delivery import Delivery, Refused, SnapshotConflict
from services.ingest.domain.stores import MAX_SOURCE_URL
from shared.logging import get_logger
from shared.service.deps import ServiceDep

if TYPE_CHECKING:
    from services.ingest.bootstrap import Ingest

log = get_logger(__name__)
PATH = "/webhooks/woocommerce"
# PostgreSQL away or restarting: the delivery can't be made durable, so WooCommerce must not get a 200.
# (SnapshotConflict: other instances kept changing the resource; nothing was stored.)
_STORAGE_DOWN = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, SnapshotConflict)
_JSON = [(b"content-type", b"application/json")]
# Longest value of each X-WC-Webhook-* header ingest reads (the source URL: domain/stores.py's
# MAX_SOURCE_URL; WooCommerce's others are a topic, a 44-character signature, ids). Longer is
# refused before any lookup or body read; the serving layer caps the whole head besides.
_WC_HEADER_LIMITS = (("x-wc-webhook-source", MAX_SOURCE_URL), ("x-wc-webhook-topic", 256),
                     ("x-wc-webhook-signature", 256), ("x-wc-webhook-id", 256), ("x-wc-webhook-delivery-id", 256))


def _error(status: int, code: str, message: str) -> tuple[int, dict]:
    return status, {"error": code, "message": message}


class Stored(BaseModel):
    outcome: str  # applied, duplicate, stale, parked, ignored_topic, error_body, invalid_resource
    events: int  # events this delivery added to the outbox


class Ping(BaseModel):
    ok: bool
    ping: bool


class WebhookError(BaseModel):
    error: str
    message: str


def _oversized_header(h: Mapping[str, str]) -> tuple[str, int] | None:
    for name, limit in _WC_HEADER_LIMITS:
        value = h.get(name)
        if value is not None and len(value) > limit:
            return name, limit
    return None


def _too_large(ingest: Ingest) -> tuple[int, dict]:
    ingest.metrics.rejected.labels("too_large").inc()
    return _error(413, "payload_too_large", f"body over {ingest.settings.max_body_bytes} bytes")


async def handle(ingest: Ingest, h: Mapping[str, str], body: bytes) -> tuple[int, dict]:
    """One request, whatever served it: (status, JSON body). `h` has lower-case header names."""
    metrics = ingest.metrics
    topic = h.get("x-wc-webhook-topic")
    if topic is None:
        if body.startswith(b"webhook_id="):
            log.info("webhook_ping", webhook_id=body[11:40].decode(errors="replace"))
            return 200, {"ok": True, "ping": True}
        metrics.rejected.labels("not_a_delivery").inc()
        return _error(400, "missing_topic", "X-WC-Webhook-Topic header is required")
    if ingest.runtime.pool is None:
        return _error(503, "not_ready", "storage unavailable, retry later")
    try:
        store = await ingest.stores.by_source(h.get("x-wc-webhook-source", ""))
    except _STORAGE_DOWN as exc:
        log.error("store_lookup_failed", error=type(exc).__name__)
        return _error(503, "storage_unavailable", "could not read the store registry, retry later")
    if not verify(store.active_secrets() if store else [], body, h.get("x-wc-webhook-signature")):
        metrics.signature_failures.labels(store.store_id if store else "unknown").inc()
        metrics.rejected.labels("signature").inc()
        return _error(401, "invalid_signature", "signature missing or invalid for this source")
    if h.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        metrics.rejected.labels("content_type").inc()
        return _error(400, "unsupported_content_type", "deliveries must be application/json")
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        metrics.rejected.labels("malformed_json").inc()
        return _error(400, "malformed_json", "body is not valid JSON")
    if not isinstance(payload, dict):
        metrics.rejected.labels("malformed_json").inc()
        return _error(400, "malformed_json", "body must be a JSON object")
    delivery = Delivery(store=store, topic=topic, payload=payload, body=body,
                        delivery_id=h.get("x-wc-webhook-delivery-id"), webhook_id=h.get("x-wc-webhook-id"))
    try:
        result = await ingest.commit.submit(delivery)
    except Refused as exc:
        # This delivery's own answer, whatever its batch-mates got: its data (400 invalid or out of
        # range, 413 events Kafka couldn't take) or a bug met on it (500); the pipeline logged why.
        metrics.rejected.labels(exc.code).inc()
        message = f"the {delivery.resource} payload is not usable: {exc}" if exc.code == "invalid_payload" else str(exc)
        return _error(exc.status, exc.code, message)
    except _STORAGE_DOWN as exc:
        log.error("delivery_not_stored", error=type(exc).__name__, topic=topic, store_id=store.store_id,
                  delivery_id=delivery.delivery_id)
        return _error(503, "storage_unavailable", "could not store the delivery, retry later")
    return 200, {"outcome": result.outcome, "events": result.events}


def asgi_receive():
    """The route as a bare ASGI callable: (scope, receive, send) → one answer, never an exception."""

    async def endpoint(scope, receive, send) -> None:
        ingest = scope["app"].state.service
        try:
            status, body = await _serve(ingest, scope, receive)
        except Exception as exc:  # a bug, not the caller's fault: never a traceback, never a crash
            log.error("webhook_failed", error=type(exc).__name__)
            status, body = _error(500, "internal_error", "the delivery could not be handled")
        raw = orjson.dumps(body)
        await send({"type": "http.response.start", "status": status,
                    "headers": [*_JSON, (b"content-length", str(len(raw)).encode())]})
        await send({"type": "http.response.body", "body": raw})

    return endpoint


async def _serve(ingest: Ingest, scope, receive) -> tuple[int, dict]:
    """Read the body (at most max_body_bytes) from the ASGI `receive`, then `handle` it."""
    h = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    oversized = _oversized_header(h)
    if oversized is not None:
        ingest.metrics.rejected.labels("header_too_large").inc()
        return _error(431, "header_too_large", f"header {oversized[0]} is over {oversized[1]} characters")
    limit, chunks, size = ingest.settings.max_body_bytes, [], 0
    declared = h.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return _too_large(ingest)
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return _error(400, "incomplete_body", "the client went away before the body was complete")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return _too_large(ingest)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return await handle(ingest, h, b"".join(chunks))


def webhook_router() -> APIRouter:
    router = APIRouter(tags=["webhooks"])

    @router.post(PATH, summary="Receive a WooCommerce webhook delivery or ping", response_model=Stored | Ping,
                 responses={200: {"description": "Stored (or a ping)"}, 400: {"model": WebhookError},
                            401: {"model": WebhookError}, 413: {"model": WebhookError},
                            431: {"model": WebhookError, "description": "An X-WC-Webhook-* header too long"},
                            503: {"model": WebhookError}})
    async def receive(request: Request, ingest: ServiceDep) -> Response:
        status, body = await _serve(ingest, request.scope, request.receive)
        return Response(orjson.dumps(body), status_code=status, media_type="application/json")

    return router
