"""POST /webhooks/woocommerce — deliveries exactly as WooCommerce sends them.

Order of checks: size → ping → store + signature over the raw bytes → content type → JSON →
durable ingest. Answers 200 only after the delivery is committed; never a redirect (WooCommerce
counts 3xx as delivered without following it). Unknown store and bad signature look the same.
"""
from __future__ import annotations

import asyncpg
import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from services.ingest.adapters.signature import verify
from services.ingest.handlers import Delivery, InvalidPayload, ingest
from shared.logging import get_logger

log = get_logger(__name__)
# PostgreSQL away or restarting: the delivery can't be made durable, so WooCommerce must not get a 200.
_STORAGE_DOWN = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


def webhook_router() -> APIRouter:
    router = APIRouter(tags=["webhooks"])

    @router.post("/webhooks/woocommerce", summary="Receive a WooCommerce webhook delivery or ping",
                 responses={200: {"description": "Stored (or a ping)"}, 400: {}, 401: {}, 413: {}, 503: {}})
    async def receive(request: Request) -> JSONResponse:
        app = request.app.state.ingest
        metrics, limit = app.metrics, app.settings.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            metrics.rejected.labels("too_large").inc()
            return _error(413, "payload_too_large", f"body over {limit} bytes")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                metrics.rejected.labels("too_large").inc()
                return _error(413, "payload_too_large", f"body over {limit} bytes")
        body = bytes(body)
        h = request.headers
        topic = h.get("x-wc-webhook-topic")
        if topic is None:
            if body.startswith(b"webhook_id="):
                log.info("webhook_ping", webhook_id=body[11:40].decode(errors="replace"))
                return JSONResponse({"ok": True, "ping": True}, status_code=200)
            metrics.rejected.labels("not_a_delivery").inc()
            return _error(400, "missing_topic", "X-WC-Webhook-Topic header is required")
        if app.runtime.pool is None:
            return _error(503, "not_ready", "storage unavailable, retry later")
        try:
            store = await app.stores.by_source(h.get("x-wc-webhook-source", ""))
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
            result = await ingest(app.runtime.pool, delivery, metrics)
        except InvalidPayload as exc:
            metrics.rejected.labels("invalid_payload").inc()
            return _error(400, "invalid_payload", f"the {delivery.resource} payload is not usable: {exc}")
        except asyncpg.DataError:
            # A value PostgreSQL refuses (e.g. a NUL character inside a string): the caller's data.
            metrics.rejected.labels("invalid_payload").inc()
            return _error(400, "invalid_payload", "the payload holds a value that cannot be stored")
        except _STORAGE_DOWN as exc:
            log.error("delivery_not_stored", error=type(exc).__name__, topic=topic)
            return _error(503, "storage_unavailable", "could not store the delivery, retry later")
        return JSONResponse({"outcome": result.outcome, "events": result.events}, status_code=200)

    return router
