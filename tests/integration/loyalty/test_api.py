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
from services.loyalty.entrypoints.api import program_router, points_router, referral_router, rules_router
from shared.service.app import build_app
from shared.service.runtime import Runtime
from tests.unit.loyalty.order_events import later, order_event

TOKEN = "it-loyalty-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def api(stack, loyalty_dsn):
    settings = LoyaltySettings(database_url=loyalty_dsn, kafka_bootstrap=stack.bootstrap_servers(),
                               api_token=TOKEN, environment="production")
    runtime = Runtime("loyalty", settings, MIGRATIONS, {})
    app = build_app(title="loyalty under test", description="", runtime=runtime, routers=[points_router(), rules_router(), referral_router(), program_router()],
                    service=Loyalty(settings=settings, runtime=runtime, redeemer=None))
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
    assert list(r.json())[:3] == ["customer_key", "pending", "available"]  # as always, then what was added
    assert r.json() == {"customer_key": key, "pending": 0, "available": 100, "owed": 0, "tier": None}

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
    assert r.json() == {"customer_key": f"{store}:c404", "pending": 0, "available": 0, "owed": 0, "tier": None}
    assert (await client.get(f"/customers/{store}:c404/ledger", headers=AUTH)).json() == []


async def test_the_api_asks_for_its_token_and_checks_the_key(api, uid):
    client, _ = api
    for path in (f"/customers/s{uid}:c7/balance", f"/customers/s{uid}:c7/ledger"):
        for headers in ({}, {"Authorization": "Bearer not-the-token"}):
            r = await client.get(path, headers=headers)
            assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer", (path, headers)
    assert (await client.get("/customers/ab/balance", headers=AUTH)).status_code == 422  # too short a key
    assert (await client.get("/healthz")).status_code == 200  # ops endpoints stay open


async def test_the_ledger_pages(api, uid):
    client, pool = api
    store, key = f"s{uid}", f"s{uid}:c7"
    for n in range(1, 4):
        async with pool.acquire() as conn:
            async with conn.transaction():
                await handlers.on_order_paid(order_event(store, "order.paid", n), LoyaltyUnitOfWork(conn))
    everything = (await client.get(f"/customers/{key}/ledger", headers=AUTH)).json()
    assert len(everything) == 3
    page = (await client.get(f"/customers/{key}/ledger?limit=2&offset=1", headers=AUTH)).json()
    assert page == everything[1:3]
    for bad in ("limit=0", "limit=501", "offset=-1", "limit=x"):
        assert (await client.get(f"/customers/{key}/ledger?{bad}", headers=AUTH)).status_code == 422, bad


async def test_store_rules_are_set_through_the_api_and_drive_earning(api, uid):
    client, pool = api
    store = f"s{uid}"
    r = await client.get(f"/stores/{store}/rules", headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.json()["base_currency"] == "USD" and r.json()["points_per_unit"] == "1"  # the defaults

    body = {"points_per_currency": {"JPY": "0.01"}, "category_multipliers": {"5": "2"}, "first_order_bonus": 10,
            "campaigns": [{"name": "weekend", "multiplier": "3", "starts_at": "2026-03-07T00:00:00Z",
                           "ends_at": "2026-03-09T00:00:00Z"}],
            "tiers": [{"name": "Bronze", "min_points": 0}, {"name": "Gold", "min_points": 1000, "multiplier": "1.5"}]}
    r = await client.put(f"/stores/{store}/rules", headers=AUTH, json=body)
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["points_per_currency"], got["category_multipliers"], got["first_order_bonus"]) == (
        {"JPY": "0.01"}, {"5": "2"}, 10)
    assert got["points_per_unit"] == "1" and got["base_currency"] == "USD"  # left out: still the defaults
    assert got["campaigns"][0]["starts_at"] == "2026-03-07T00:00:00+00:00"
    assert (await client.get(f"/stores/{store}/rules", headers=AUTH)).json() == got

    async with pool.acquire() as conn:
        async with conn.transaction():
            await handlers.on_order_paid(order_event(store, "order.paid", 1, currency="JPY", tax="0",
                                                     line_items=[{"line_id": 1, "product_id": 9, "name": "x",
                                                                  "quantity": 1, "total": "1500"}]),
                                         LoyaltyUnitOfWork(conn))
    r = await client.get(f"/customers/{store}:c7/balance", headers=AUTH)
    assert (r.json()["pending"], r.json()["tier"]) == (25, "Bronze")  # 15 for 1500 yen + 10 first-order bonus


async def test_bad_rules_are_refused_and_change_nothing(api, uid):
    client, _ = api
    store = f"s{uid}"
    await client.put(f"/stores/{store}/rules", headers=AUTH, json={"review_bonus": 5})
    before = (await client.get(f"/stores/{store}/rules", headers=AUTH)).json()
    bad = [{"base_currency": "usd"}, {"points_per_unit": "-1"}, {"points_per_unit": "abc"},
           {"category_multipliers": {"5": "0"}}, {"product_multipliers": {"x": "2"}}, {"unknown_rule": 1},
           {"campaigns": [{"name": "w", "multiplier": "2", "starts_at": "2026-03-09T00:00:00Z",
                           "ends_at": "2026-03-07T00:00:00Z"}]},
           {"campaigns": [{"name": "w", "multiplier": "2", "starts_at": "2026-03-07T00:00:00",
                           "ends_at": "2026-03-09T00:00:00"}]},  # no offset: ambiguous
           {"tiers": [{"name": "A", "min_points": 0}, {"name": "A", "min_points": 5}]},
           {"first_order_bonus": -5}, {"return_window_days": 100000}]
    for body in bad:
        r = await client.put(f"/stores/{store}/rules", headers=AUTH, json=body)
        assert r.status_code == 422, (body, r.status_code, r.text)
        assert r.json()["error"], r.text
    r = await client.put(f"/stores/{store}/rules", headers=AUTH, content=b"{not json")
    assert 400 <= r.status_code < 500
    assert (await client.get("/stores/bad store/rules", headers=AUTH)).status_code == 422
    assert (await client.get(f"/stores/{store}/rules", headers=AUTH)).json() == before


async def test_referrals_through_the_api(api, uid):
    client, pool = api
    store, referrer, new = f"s{uid}", f"s{uid}:c1", f"s{uid}:c2"
    await client.put(f"/stores/{store}/rules", headers=AUTH, json={"referrer_points": 300, "referred_points": 200})

    async def apply(event):
        async with pool.acquire() as conn:
            async with conn.transaction():
                await handlers.HANDLERS[event.type](event, LoyaltyUnitOfWork(conn))

    await apply(order_event(store, "order.paid", 1, extra={"customer": {"key": referrer, "email": "ana@example.com"}}))
    r = await client.get(f"/customers/{referrer}/referral", headers=AUTH)
    assert r.status_code == 200, r.text
    code = r.json()["code"]
    assert code.startswith("ref-") and r.json()["link"] is None  # no store URL configured here
    assert (await client.get(f"/customers/{referrer}/referral", headers=AUTH)).json()["code"] == code

    r = await client.post("/referrals", headers=AUTH, json={"code": code, "referred_key": referrer})
    assert r.status_code == 422 and r.json()["error"] == "self_referral", r.text
    r = await client.post("/referrals", headers=AUTH, json={"code": "ref-unknown00", "referred_key": new})
    assert r.status_code == 422 and r.json()["error"] == "unknown_code"
    r = await client.post("/referrals", headers=AUTH, json={"code": code, "referred_key": new,
                                                            "referred_email": "bo@example.com"})
    assert r.status_code == 201 and r.json()["status"] == "pending", r.text
    assert (await client.post("/referrals", headers=AUTH, json={"code": "BAD CODE", "referred_key": new})
            ).status_code == 422
    bo = {"customer": {"key": new, "email": "bo@example.com"}}
    await apply(order_event(store, "order.paid", 10, extra=bo))
    await apply(order_event(store, "order.completed", 10, time=later(1), extra=bo))
    assert (await client.get(f"/customers/{referrer}/balance", headers=AUTH)).json()["available"] == 300
    assert (await client.get(f"/customers/{new}/balance", headers=AUTH)).json()["available"] == 300
    assert await pool.fetchval("SELECT status FROM referrals WHERE referred_key = $1", new) == "rewarded"
    assert await pool.fetchval("SELECT reason FROM referrals WHERE referred_key = $1", referrer) == "self_referral"


async def test_adjustments_and_statistics(api, uid):
    client, pool = api
    store, key = f"s{uid}", f"s{uid}:c7"

    async def apply(event):
        async with pool.acquire() as conn:
            async with conn.transaction():
                await handlers.HANDLERS[event.type](event, LoyaltyUnitOfWork(conn))

    await apply(order_event(store, "order.paid", 1))
    await apply(order_event(store, "order.completed", 1, time=later(1)))
    await apply(order_event(store, "order.paid", 2))
    await apply(order_event(store, "order.refunded", 2, time=later(2),
                            refund={"refund_id": 1, "amount": "27.50", "is_full": False}))  # 25 of 100 back
    path = f"/customers/{key}/adjustments"
    ok = {"points": 50, "reason": "goodwill: late parcel", "actor": "support:maria", "idempotency_key": "adj-0000001"}
    r = await client.post(path, headers=AUTH, json=ok)
    assert r.status_code == 201, r.text
    assert (r.json()["points"], r.json()["reason"], r.json()["actor"]) == (50, "goodwill: late parcel", "support:maria")
    assert (await client.post(path, headers=AUTH, json=ok)).json() == r.json()  # a retry: once
    for bad in ({**ok, "reason": ""}, {k: v for k, v in ok.items() if k != "reason"}, {**ok, "points": 0},
                {**ok, "actor": ""}, {**ok, "idempotency_key": "x"}):
        assert (await client.post(path, headers=AUTH, json=bad)).status_code == 422, bad
    r = await client.post(path, headers=AUTH, json={**ok, "points": -151, "idempotency_key": "adj-0000002"})
    assert r.status_code == 422 and r.json()["error"] == "not_enough_points"
    assert (await client.get(f"/customers/{key}/balance", headers=AUTH)).json()["available"] == 150
    rows = await pool.fetch("SELECT reason, actor, points FROM adjustments WHERE customer_key = $1", key)
    assert [tuple(r) for r in rows] == [("goodwill: late parcel", "support:maria", 50)]

    r = await client.get(f"/stores/{store}/statistics", headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.json() == {"store_id": store, "members": 1, "awarded_by_orders": 200, "reversed": 25, "pending": 75,
                        "available": 150, "redeemed": 0, "expired": 0, "liability_points": 225,
                        "liability_amount": "2.25", "currency": "USD"}


async def test_birthdays_through_the_api(api, uid):
    client, pool = api
    key = f"s{uid}:c7"
    r = await client.put(f"/customers/{key}/birthday", headers=AUTH, json={"month": 2, "day": 29})
    assert r.status_code == 200 and r.json() == {"customer_key": key, "month": 2, "day": 29}, r.text
    for bad in ({"month": 2, "day": 30}, {"month": 4, "day": 31}, {"month": 13, "day": 1}, {"month": 1}):
        assert (await client.put(f"/customers/{key}/birthday", headers=AUTH, json=bad)).status_code == 422, bad
    row = await pool.fetchrow("SELECT birth_month, birth_day FROM members WHERE customer_key = $1", key)
    assert tuple(row) == (2, 29)
