"""The redemption use case (redeem.py) on the in-memory unit of work and FakeWooCoupons: issued
once per idempotency key, the points held while the store is away and the coupon made on the
retry, a lost answer found by its code (never a second coupon), a refusal giving the points back,
a redemption held too long given back by the scheduler's pass — the balance exact throughout."""
from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import timedelta

import pytest

from services.loyalty import handlers
from services.loyalty.domain.redemption import RedemptionRules, Refused
from services.loyalty.redeem import Redeemer
from shared.testing import Clock
from tests.support.fakes.loyalty import FakeWooCoupons, memory_tx
from tests.unit.loyalty.order_events import WHEN, later, order_event

STORE, KEY = "sred", "sred:c7"


@pytest.fixture
async def setup():
    clock = Clock(WHEN)
    tx = memory_tx(now=clock.now)
    for n in range(1, 11):  # 1000 available points
        for e in (order_event(STORE, "order.paid", n), order_event(STORE, "order.completed", n, time=later(1))):
            await handlers.HANDLERS[e.type](e, tx)

    @asynccontextmanager
    async def transaction():
        yield tx

    woo = FakeWooCoupons()
    redeemer = Redeemer(transaction, lambda store_id: woo if store_id == STORE else None, RedemptionRules(), clock.now,
                        hold_max=timedelta(hours=1))
    return tx, woo, redeemer, clock


async def _available(tx) -> int:
    return (await tx.ledger.balance(KEY))["available"]


async def test_issued_once_per_key(setup):
    tx, woo, redeemer, _ = setup
    r = await redeemer.redeem(KEY, 500, "key-0001")
    assert r.status == "issued" and await redeemer.redeem(KEY, 500, "key-0001") == r
    [coupon] = woo.coupons.values()
    assert (coupon["code"], coupon["amount"], coupon["minimum_amount"], coupon["email_restrictions"]) == (
        r.code, "5.00", "15.00", ["x@example.com"])
    assert await _available(tx) == 500
    [issued] = tx.outbox.of_type("coupon.issued")
    assert (issued.envelope.data["points_spent"], issued.key) == (500, KEY)


async def test_the_store_away_holds_the_points_and_a_retry_issues(setup):
    tx, woo, redeemer, _ = setup
    woo.down = True
    r = await redeemer.redeem(KEY, 500, "key-0002")
    assert r.status == "held" and await _available(tx) == 500
    with pytest.raises(Refused):  # held points are not spendable twice
        await redeemer.redeem(KEY, 600, "key-0003")
    woo.down = False
    woo.lose_answers = 1
    assert (await redeemer.redeem(KEY, 500, "key-0002")).status == "held"  # made, answer lost
    r = await redeemer.redeem(KEY, 500, "key-0002")
    assert r.status == "issued" and len(woo.coupons) == 1 and await _available(tx) == 500
    assert len(tx.outbox.of_type("coupon.issued")) == 1


async def test_a_refusal_gives_the_points_back(setup):
    tx, woo, redeemer, _ = setup
    woo.refuse = "woocommerce_rest_cannot_create"
    r = await redeemer.redeem(KEY, 500, "key-0004")
    assert r.status == "returned" and await _available(tx) == 1000 and woo.coupons == {}
    assert await redeemer.redeem(KEY, 500, "key-0004") == r  # a retry: still returned, nothing more


async def test_the_scheduler_retries_then_gives_back_what_is_held_too_long(setup):
    tx, woo, redeemer, clock = setup
    woo.down = True
    await redeemer.redeem(KEY, 500, "key-0005")
    await redeemer.redeem(KEY, 500, "key-0006")
    clock.advance(minutes=2)
    woo.down = False
    woo.refuse = None
    assert await redeemer.retry_held() == 2 and len(woo.coupons) == 2 and await _available(tx) == 0
    woo.down = True
    await _give_points(tx, 11)  # 500 more
    await redeemer.redeem(KEY, 500, "key-0007")
    assert await _available(tx) == 0
    clock.advance(hours=2)
    assert await redeemer.retry_held() == 1
    assert await _available(tx) == 500  # given back after the hold ran out
    assert {r["status"] for r in tx.redemptions.rows.values()} == {"issued", "returned"}


async def _give_points(tx, n: int) -> None:
    for e in (order_event(STORE, "order.paid", n, subtotal="500.00"),
              order_event(STORE, "order.completed", n, subtotal="500.00", time=later(1))):
        await handlers.HANDLERS[e.type](e, tx)


async def test_refusals_before_anything_is_held(setup):
    tx, woo, redeemer, _ = setup
    with pytest.raises(Refused) as other:
        await redeemer.redeem("elsewhere:c1", 500, "key-0008")
    assert other.value.code == "store_not_connected"
    with pytest.raises(Refused) as too_much:
        await redeemer.redeem(KEY, 1100, "key-0009")
    assert too_much.value.code == "not_enough_points"
    assert tx.redemptions.rows == {} and woo.calls == [] and await _available(tx) == 1000
