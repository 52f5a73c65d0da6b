"""The internal API (bearer token): stores, secret rotation, deliveries, an order's events,
replay, outbox depth. Secrets go in, never come out."""
from __future__ import annotations

import hmac
import re
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field, HttpUrl

from shared.db import outbox

_bearer = HTTPBearer(auto_error=False)


def _require_token(request: Request,
                   creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> None:
    expected = request.app.state.ingest.settings.api_token
    if creds is None or not hmac.compare_digest(creds.credentials.encode(), expected.encode()):
        raise HTTPException(401, "a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"})


def _pool(request: Request):
    pool = request.app.state.ingest.runtime.pool
    if pool is None:
        raise HTTPException(503, "storage unavailable, retry later")
    return pool


class StoreIn(BaseModel):
    store_id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,31}$", description="short stable id")
    source_url: HttpUrl = Field(description="the store's home URL as sent in X-WC-Webhook-Source")
    webhook_secret: str = Field(min_length=16, max_length=200)
    rest_url: HttpUrl | None = Field(default=None, description="base URL of the store's site for the REST API")
    consumer_key: str | None = None
    consumer_secret: str | None = None
    timezone: str = "UTC"
    locale: str | None = None


class RotateIn(BaseModel):
    new_secret: str = Field(min_length=16, max_length=200)
    overlap_seconds: int | None = Field(default=None, ge=0, le=30 * 86400,
                                        description="how long the old secret stays valid")


def _event_rows(rows) -> list[dict]:
    return [{"seq": r["seq"], "event_id": r["event_id"], "type": r["event_type"], "topic": r["topic"],
             "key": r["key"], "created_at": r["created_at"].isoformat(),
             "published_at": r["published_at"].isoformat() if r["published_at"] else None,
             "envelope": orjson.loads(r["payload"])} for r in rows]


def admin_router() -> APIRouter:
    router = APIRouter(tags=["internal"], dependencies=[Depends(_require_token)])

    @router.post("/stores", summary="Register (or update) a store", status_code=201)
    async def register_store(body: StoreIn, request: Request) -> dict:
        _pool(request)
        store = await request.app.state.ingest.stores.register(
            body.store_id, str(body.source_url), body.webhook_secret,
            str(body.rest_url) if body.rest_url else None, body.consumer_key, body.consumer_secret,
            body.timezone, body.locale)
        return store.public()

    @router.get("/stores", summary="List stores (no secrets)")
    async def list_stores(request: Request) -> list[dict]:
        _pool(request)
        return [s.public() for s in await request.app.state.ingest.stores.all()]

    @router.post("/stores/{store_id}/rotate-secret", summary="Rotate the webhook secret with an overlap")
    async def rotate(store_id: str, body: RotateIn, request: Request) -> dict:
        _pool(request)
        app = request.app.state.ingest
        overlap = body.overlap_seconds if body.overlap_seconds is not None else app.settings.secret_overlap_s
        store = await app.stores.rotate_secret(store_id, body.new_secret, overlap)
        if store is None:
            raise HTTPException(404, "no such store")
        return store.public()

    @router.get("/deliveries", summary="Look deliveries up by delivery id or order id")
    async def deliveries(request: Request, delivery_id: str | None = None,
                         store_id: str | None = None, order_id: int | None = Query(default=None, ge=1),
                         limit: int = Query(default=50, ge=1, le=500)) -> list[dict]:
        pool = _pool(request)
        if delivery_id is None and order_id is None:
            raise HTTPException(400, "give delivery_id or order_id")
        if order_id is not None and store_id is None:
            raise HTTPException(400, "order_id needs store_id")
        if delivery_id is not None:
            rows = await pool.fetch("SELECT * FROM deliveries WHERE delivery_id = $1 ORDER BY id DESC LIMIT $2",
                                    delivery_id, limit)
        else:
            rows = await pool.fetch(
                "SELECT * FROM deliveries WHERE store_id = $1 AND resource = 'order' AND resource_id = $2"
                " ORDER BY id DESC LIMIT $3", store_id, str(order_id), limit)
        return [{"id": r["id"], "store_id": r["store_id"], "topic": r["topic"], "resource_id": r["resource_id"],
                 "delivery_id": r["delivery_id"], "webhook_id": r["webhook_id"], "origin": r["origin"],
                 "outcome": r["outcome"], "events": r["events"], "received_at": r["received_at"].isoformat(),
                 "bytes": len(r["body"])} for r in rows]

    @router.get("/stores/{store_id}/orders/{order_id}/events", summary="Events an order produced")
    async def order_events(store_id: str, order_id: int, request: Request) -> list[dict]:
        rows = await _pool(request).fetch(
            "SELECT * FROM outbox WHERE source = $1 AND subject = $2 ORDER BY seq",
            f"/stores/{store_id}", f"order/{order_id}")
        return _event_rows(rows)

    @router.post("/stores/{store_id}/orders/{order_id}/replay",
                 summary="Publish an order's events again (consumers drop what they already applied)")
    async def replay(store_id: str, order_id: int, request: Request) -> dict:
        status = await _pool(request).execute(
            "UPDATE outbox SET published_at = NULL, created_at = now() WHERE source = $1 AND subject = $2",
            f"/stores/{store_id}", f"order/{order_id}")
        return {"requeued": int(re.sub(r"\D", "", status) or 0)}

    @router.get("/outbox", summary="Outbox depth and the age of its oldest unpublished row")
    async def outbox_stats(request: Request) -> dict:
        async with _pool(request).acquire() as conn:
            return await outbox.stats(conn)

    return router
