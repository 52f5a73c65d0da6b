"""Redemption against real PostgreSQL and the WooCommerce store simulator over HTTP (uvicorn on a
free port): the coupon WooCommerce is asked for (fields, types, auth checked by the simulator as
WooCommerce would), coupon.issued in the outbox, a repeated request spending nothing twice, 50
concurrent redemptions against one balance never overspending, and a store outage — unreachable,
or the answer lost after the coupon was made — losing and doubling nothing."""
from __future__ import annotations

import asyncio
import socket
import threading
import time
from datetime import timedelta
from decimal import Decimal

import httpx
import orjson
import pytest
import uvicorn

from deploy.local.storesim import SimClock, Store
from deploy.local.storesim.rest_api import create_app as storesim_app
from services.loyalty import handlers
from services.loyalty.adapters.ledger import PgLedger
from services.loyalty.adapters.unit_of_work import LoyaltyUnitOfWork
from services.loyalty.adapters.woo_coupons import WooCoupons
from services.loyalty.bootstrap import MIGRATIONS, Loyalty, coupon_clients, transactions
from services.loyalty.config import LoyaltySettings
from services.loyalty.domain.redemption import RedemptionRules, Refused
from services.loyalty.entrypoints.api import redemption_router
from services.loyalty.redeem import Redeemer
from shared.events.envelope import utcnow
from shared.service.app import build_app
from shared.service.runtime import Runtime
from tests.unit.loyalty.order_events import later, order_event

CK, CS = "ck_loyalty_test", "cs_loyalty_test"
RULES = RedemptionRules()  # 100 points = 1.00, at least 500, minimum spend ×3, 90 days


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def woo():
    """A simulated store served over HTTP; yields (store, base URL)."""
    store = Store("https://shop.example/", clock=SimClock())
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(storesim_app(store, consumer_key=CK, consumer_secret=CS),
                                           host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "store simulator did not start"
        time.sleep(0.02)
    yield store, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


async def _earn(pool, store: str, key: str, orders: int, *, email: str | None = "ana@example.com",
                first: int = 1) -> None:
    """`orders` completed orders of 100.00 goods (ids from `first`): 100 available points each."""
    who = {"customer": {"key": key, "email": email}}
    for n in range(first, first + orders):
        for event in (order_event(store, "order.paid", n, extra=who),
                      order_event(store, "order.completed", n, time=later(1), extra=who)):
            async with pool.acquire() as conn:
                async with conn.transaction():
                    await handlers.HANDLERS[event.type](event, LoyaltyUnitOfWork(conn))


def _redeemer(pool, clients: dict) -> Redeemer:
    return Redeemer(transactions(lambda: pool, LoyaltySettings()), lambda store_id: clients.get("c"), RULES, utcnow)


async def test_points_become_the_coupon_woocommerce_is_asked_for(pool, woo, uid):
    sim, url = woo
    store, key = f"s{uid}", f"s{uid}:c7"
    await _earn(pool, store, key, 10)
    client = WooCoupons(url, CK, CS)
    redeemer = _redeemer(pool, {"c": client})
    try:
        r = await redeemer.redeem(key, 500, "req-0001")
        again = await redeemer.redeem(key, 500, "req-0001")  # a retried request
    finally:
        await client.close()
    assert r.status == "issued" and again == r
    [coupon] = sim.coupons.values()
    assert (coupon["id"], coupon["code"], coupon["discount_type"], coupon["amount"], coupon["minimum_amount"],
            coupon["email_restrictions"], coupon["usage_limit"], coupon["usage_limit_per_user"],
            coupon["individual_use"]) == (r.coupon_id, r.code, "fixed_cart", "5.00", "15.00", ["ana@example.com"], 1,
                                          1, True)
    assert coupon["date_expires_gmt"] == r.expires_at.strftime("%Y-%m-%dT%H:%M:%S")
    assert await PgLedger(pool).balance(key) == {"pending": 0, "available": 500}
    [issued] = [orjson.loads(row["payload"]) for row in await pool.fetch(
        "SELECT payload FROM outbox WHERE key = $1 AND event_type = 'coupon.issued'", key)]
    data = issued["data"]
    assert (data["code"], data["amount"], data["minimum_amount"], data["currency"], data["points_spent"],
            data["coupon_id"]) == (r.code, "5.00", "15.00", "USD", 500, r.coupon_id)
    assert data["expires_at"].startswith(r.expires_at.strftime("%Y-%m-%dT%H:%M:%S"))


async def test_refusals_spend_nothing(pool, woo, uid):
    _, url = woo
    store, key, guest = f"s{uid}", f"s{uid}:c7", f"s{uid}:c8"
    await _earn(pool, store, key, 6)
    await _earn(pool, store, guest, 6, email=None, first=100)
    client = WooCoupons(url, CK, CS)
    redeemer = _redeemer(pool, {"c": client})
    try:
        for who, points, code in ((key, 400, "below_minimum"), (key, 700, "not_enough_points"),
                                  (guest, 500, "no_email")):
            with pytest.raises(Refused) as refused:
                await redeemer.redeem(who, points, f"bad-{points}-{who[-2:]}")
            assert refused.value.code == code
        await redeemer.redeem(key, 500, "key-00001")
        with pytest.raises(Refused) as reused:
            await redeemer.redeem(key, 600, "key-00001")
        assert reused.value.code == "idempotency_key_reused"
    finally:
        await client.close()
    assert await PgLedger(pool).balance(key) == {"pending": 0, "available": 100}
    assert await PgLedger(pool).balance(guest) == {"pending": 0, "available": 600}
    assert await pool.fetchval("SELECT count(*) FROM redemptions") == 1


async def test_fifty_concurrent_redemptions_never_overspend(pool, woo, uid):
    sim, url = woo
    store, key = f"s{uid}", f"s{uid}:c7"
    await _earn(pool, store, key, 20)  # 2000 points: four coupons of 500
    client = WooCoupons(url, CK, CS)
    redeemer = _redeemer(pool, {"c": client})
    try:
        results = await asyncio.gather(*(redeemer.redeem(key, 500, f"burst-{n:04d}") for n in range(50)),
                                       return_exceptions=True)
    finally:
        await client.close()
    issued = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Refused)]
    assert len(issued) == 4 and len(refused) == 46, [type(r) for r in results]
    assert {r.code for r in refused} == {"not_enough_points"}
    assert all(r.status == "issued" for r in issued)
    assert len(sim.coupons) == 4
    assert await PgLedger(pool).balance(key) == {"pending": 0, "available": 0}


class LoseAnswers(httpx.AsyncBaseTransport):
    """Sends each POST to the store for real, then loses its answer (a timeout after the store
    acted) — `times` times."""

    def __init__(self, times: int) -> None:
        self.inner, self.times = httpx.AsyncHTTPTransport(), times

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "POST" and self.times > 0:
            self.times -= 1
            await response.aread()
            raise httpx.ReadTimeout("answer lost", request=request)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_an_outage_loses_and_doubles_nothing(pool, woo, uid):
    sim, url = woo
    store, key = f"s{uid}", f"s{uid}:c7"
    await _earn(pool, store, key, 20)
    ledger = PgLedger(pool)
    down = WooCoupons(f"http://127.0.0.1:{_free_port()}", CK, CS, timeout_s=2)  # nothing listens there
    clients = {"c": down}
    redeemer = _redeemer(pool, clients)
    held = await redeemer.redeem(key, 500, "outage-001")
    assert held.status == "held" and sim.coupons == {}
    assert await ledger.balance(key) == {"pending": 0, "available": 1500}  # held, not spendable twice

    lossy = WooCoupons(url, CK, CS, transport=LoseAnswers(times=1))
    clients["c"] = lossy
    after_loss = await redeemer.redeem(key, 500, "outage-001")  # the caller retries: created, answer lost
    assert after_loss.status == "held" and len(sim.coupons) == 1
    issued = await redeemer.redeem(key, 500, "outage-001")  # again: found by its code, not made twice
    assert issued.status == "issued" and len(sim.coupons) == 1
    assert issued.coupon_id == next(iter(sim.coupons))

    # The scheduler's pass does the same for a redemption nobody retries.
    clients["c"] = down
    other = await redeemer.redeem(key, 1000, "outage-002")
    assert other.status == "held"
    live = WooCoupons(url, CK, CS)
    clients["c"] = live
    redeemer_later = Redeemer(transactions(lambda: pool, LoyaltySettings()), lambda s: clients.get("c"), RULES,
                              lambda: utcnow() + timedelta(minutes=5))
    assert await redeemer_later.retry_held() == 1
    assert len(sim.coupons) == 2
    assert await ledger.balance(key) == {"pending": 0, "available": 500}
    for c in (down, lossy, live):
        await c.close()
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE key = $1 AND event_type = 'coupon.issued'",
                               key) == 2


async def test_a_store_that_refuses_gives_the_points_back(pool, woo, uid):
    sim, url = woo
    store, key = f"s{uid}", f"s{uid}:c7"
    await _earn(pool, store, key, 5)
    sim.add_api_key("ck_read_only", "cs_read_only", permissions="read")
    client = WooCoupons(url, "ck_read_only", "cs_read_only")
    try:
        r = await _redeemer(pool, {"c": client}).redeem(key, 500, "refused-01")
    finally:
        await client.close()
    assert r.status == "returned" and sim.coupons == {}
    assert await PgLedger(pool).balance(key) == {"pending": 0, "available": 500}
    reasons = [row["reason"] for row in await pool.fetch(
        "SELECT reason FROM ledger WHERE customer_key = $1 AND order_id IS NULL ORDER BY points", key)]
    assert reasons == ["redemption", "redemption.returned"]


async def test_the_redemption_api(pool, woo, loyalty_dsn, stack, uid):
    _, url = woo
    store, key = f"s{uid}", f"s{uid}:c7"
    await _earn(pool, store, key, 6)
    token = "it-loyalty-token-0123456789"
    settings = LoyaltySettings(database_url=loyalty_dsn, kafka_bootstrap=stack.bootstrap_servers(), api_token=token,
                               environment="production",
                               store_rest={store: {"url": url, "consumer_key": CK, "consumer_secret": CS}})
    coupons_for, close_coupons = coupon_clients(settings)  # the store's access from settings, as bootstrap does
    runtime = Runtime("loyalty", settings, MIGRATIONS, {})  # routes only: no consumer joins a group
    runtime.on_stop.append(close_coupons)
    loyalty = Loyalty(settings=settings, runtime=runtime, redeemer=Redeemer(
        transactions(lambda: runtime.pool, settings), coupons_for, RULES, utcnow))
    app = build_app(title="t", description="", runtime=runtime, routers=[redemption_router()], service=loyalty)
    auth = {"Authorization": f"Bearer {token}"}
    async with app.router.lifespan_context(app):
        await asyncio.wait_for(runtime.connected.wait(), 60)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://loyalty") as client:
            path = f"/customers/{key}/redemptions"
            r = await client.post(path, headers=auth, json={"points": 500, "idempotency_key": "api-00001"})
            assert r.status_code == 201, r.text
            body = r.json()
            assert (body["status"], body["points"], body["amount"], body["minimum_amount"], body["currency"]) == (
                "issued", 500, "5.00", "15.00", "USD")
            assert body["code"].startswith("loy-") and body["coupon_id"] > 0
            r = await client.post(path, headers=auth, json={"points": 500, "idempotency_key": "api-00002"})
            assert r.status_code == 422 and r.json()["error"] == "not_enough_points", r.text
            for bad in ({"points": 0, "idempotency_key": "api-00003"}, {"points": 500}, {"points": "x"},
                        {"points": 500, "idempotency_key": "short"}, {"points": 500, "idempotency_key": "a b c d e f"}):
                assert (await client.post(path, headers=auth, json=bad)).status_code == 422, bad
            r = await client.post(f"/customers/other{uid}:c1/redemptions", headers=auth,
                                  json={"points": 500, "idempotency_key": "api-00004"})
            assert r.status_code == 409 and r.json()["error"] == "store_not_connected"
            assert (await client.post(path, json={"points": 500, "idempotency_key": "api-00005"})).status_code == 401
    assert await PgLedger(pool).balance(key) == {"pending": 0, "available": 100}
    assert Decimal(body["amount"]) == Decimal("5.00")
