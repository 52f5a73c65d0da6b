"""Loyalty's HTTP API over its real database: the JSON of the balance and of the ledger rows (the
shape other services, the demo and the e2e test read), behind the bearer token. The app runs its
real routers on a Runtime without workers, so no consumer joins the group while the test runs."""
from __future__ import annotations

import asyncio
import httpx
import pytest

from services.loyalty import handlers
from services.loyalty.adapters.unit_of_work import LoyaltyUnitOfWork
from services.loyalty.bootstrap import MIGRATIONS, Loyalty
from services.loyalty.config import LoyaltySettings
from services.loyalty.entrypoints.api import points_router
from shared.service.app import build_app
from shared.service.runtime import Runtime
from tests.unit.loyalty.order_events import order_event

TOKEN = "it-loyalty-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def api(stack, loyalty_dsn):
    settings = LoyaltySettings(database_url=loyalty_dsn, kafka_bootstrap=stack.bootstrap_servers(),
                               api_token=TOKEN, environment="production")
    runtime = Runtime("loyalty", settings, MIGRATIONS, {})
    app = build_app(title="loyalty under test", description="", runtime=runtime, routers=[points_router()],
                    service=Loyalty(settings=settings, runtime=runtime))
    async with app.router.lifespan_context(app):
        await asyncio.wait_for(runtime.connected.wait(), 60)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://loyalty") as client:
            yield client, runtime.pool


async def test_balance_and_ledger_answer_as_they_always_have(api, uid):
    client, pool = api
    store, key = f"s{uid}", f"s{uid}:c7"
    paid = order_event(store, "order.paid", 1)
    async with pool.acquire() as conn:
        async with conn.transaction():
            await handlers.on_order_paid(paid, LoyaltyUnitOfWork(conn))
    async with pool.acquire() as conn:
        async with conn.transaction():
            await handlers.on_order_completed(order_event(store, "order.completed", 1),
                                              LoyaltyUnitOfWork(conn))

    r = await client.get(f"/customers/{key}/balance", headers=AUTH)
    assert r.status_code == 200, r.text
    assert list(r.json()) == ["customer_key", "pending", "available"]
    assert r.json() == {"customer_key": key, "pending": 0, "available": 100}

    r = await client.get(f"/customers/{key}/ledger", headers=AUTH)
    assert r.status_code == 200, r.text
    rows = r.json()
    stored = await pool.fetch("SELECT entry_id, cause_event_id, order_id, bucket, points, reason, created_at"
                              " FROM ledger WHERE customer_key = $1 ORDER BY created_at DESC, entry_id", key)
    assert rows == [{**dict(s), "created_at": s["created_at"].isoformat()} for s in stored]
    assert [list(row) for row in rows] == [["entry_id", "cause_event_id", "order_id", "bucket", "points", "reason",
                                            "created_at"]] * 3
    assert [(row["bucket"], row["points"], row["reason"]) for row in rows][-1] == ("pending", 100, "order.paid")
    assert rows[0]["created_at"].endswith("+00:00")  # isoformat, as before the response models

    r = await client.get(f"/customers/{store}:c404/balance", headers=AUTH)
    assert r.json() == {"customer_key": f"{store}:c404", "pending": 0, "available": 0}
    assert (await client.get(f"/customers/{store}:c404/ledger", headers=AUTH)).json() == []


async def test_the_api_asks_for_its_token_and_checks_the_key(api, uid):
    client, _ = api
    for path in (f"/customers/s{uid}:c7/balance", f"/customers/s{uid}:c7/ledger"):
        for headers in ({}, {"Authorization": "Bearer not-the-token"}):
            r = await client.get(path, headers=headers)
            assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer", (path, headers)
    assert (await client.get("/customers/ab/balance", headers=AUTH)).status_code == 422  # too short a key
    assert (await client.get("/healthz")).status_code == 200  # ops endpoints stay open
