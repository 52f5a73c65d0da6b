"""Reviews' HTTP API over its real database: the JSON of a customer's review requests (the shape
the demo and the e2e test read), behind the bearer token. The app runs its real router on a
Runtime without workers, so no consumer joins the group while the test runs."""
from __future__ import annotations

import asyncio

import httpx
import pytest

from services.reviews import handlers
from services.reviews.adapters.unit_of_work import ReviewsUnitOfWork
from services.reviews.bootstrap import MIGRATIONS, Reviews
from services.reviews.config import ReviewsSettings
from services.reviews.domain.timing import TimingConfig
from services.reviews.entrypoints.api import requests_router
from shared.service.app import build_app
from shared.service.runtime import Runtime
from tests.unit.reviews.order_events import order_event

TOKEN = "it-reviews-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def api(stack):
    settings = ReviewsSettings(database_url=stack.service_dsn("reviews"), kafka_bootstrap=stack.bootstrap_servers(),
                               api_token=TOKEN, environment="production",
                               link_secret="it-reviews-link-secret-0123456789",
                               ingest_api_token="it-ingest-token-0123456789")
    runtime = Runtime("reviews", settings, MIGRATIONS, {})
    app = build_app(title="reviews under test", description="", runtime=runtime, routers=[requests_router()],
                    service=Reviews(settings=settings, runtime=runtime))
    async with app.router.lifespan_context(app):
        await asyncio.wait_for(runtime.connected.wait(), 60)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reviews") as client:
            yield client, runtime.pool


async def test_requests_answer_as_they_always_have(api, uid):
    client, pool = api
    store, key = f"s{uid}", f"s{uid}:c7"
    for order_id in (1, 2):
        async with pool.acquire() as conn:
            async with conn.transaction():
                await handlers.on_order_completed(order_event(store, "order.completed", order_id),
                                                  ReviewsUnitOfWork(conn, config=TimingConfig(7, default_transit_days=7)))

    r = await client.get("/requests", params={"customer_key": key}, headers=AUTH)
    assert r.status_code == 200, r.text
    stored = await pool.fetch("SELECT request_id, store_id, order_id, product_ids, status, due_at, created_at"
                              " FROM review_requests WHERE customer_key = $1 ORDER BY created_at DESC", key)
    first_fields = ["request_id", "store_id", "order_id", "product_ids", "status", "due_at", "created_at"]
    assert [{k: row[k] for k in first_fields} for row in r.json()] == [
        {**dict(s), "due_at": s["due_at"].isoformat(), "created_at": s["created_at"].isoformat()} for s in stored]
    assert [list(row)[:7] for row in r.json()] == [first_fields] * 2  # the original fields keep their order
    assert r.json()[0]["order_id"] == 2 and r.json()[0]["product_ids"] == [5, 9]
    assert r.json()[0]["due_at"] == "2026-03-15T10:00:00+00:00"  # 7 days' transit, 7 days to try; isoformat
    assert r.json()[0]["items"] == [{"product_id": 5, "name": "p5", "status": "open"},
                                    {"product_id": 9, "name": "p9", "status": "open"}]
    assert (r.json()[0]["basis"], r.json()[0]["sent_at"], r.json()[0]["status_reason"]) == ("completed", None, None)

    by_order = await client.get("/requests", params={"store_id": store, "order_id": 1}, headers=AUTH)
    assert [x["order_id"] for x in by_order.json()] == [1]
    pending = await client.get("/requests", params={"store_id": store, "status": "pending"}, headers=AUTH)
    assert sorted(x["order_id"] for x in pending.json()) == [1, 2]
    assert (await client.get("/requests", params={"store_id": store, "status": "sent"}, headers=AUTH)).json() == []

    r = await client.get("/requests", params={"customer_key": f"{store}:c404"}, headers=AUTH)
    assert r.status_code == 200 and r.json() == []


async def test_the_api_asks_for_its_token_and_a_customer_key(api, uid):
    client, _ = api
    for headers in ({}, {"Authorization": "Bearer not-the-token"}):
        r = await client.get("/requests", params={"customer_key": f"s{uid}:c7"}, headers=headers)
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer", headers
    assert (await client.get("/requests", headers=AUTH)).status_code == 400  # a key or a store is required
    r = await client.get("/requests", params={"store_id": "s", "status": "lost"}, headers=AUTH)
    assert r.status_code == 400 and "status must be one of" in r.json()["detail"]
    assert (await client.get("/requests", params={"customer_key": "ab"}, headers=AUTH)).status_code == 422
    assert (await client.get("/healthz")).status_code == 200  # ops endpoints stay open
