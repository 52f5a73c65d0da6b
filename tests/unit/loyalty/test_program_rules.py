"""The program's rules per store on the in-memory unit of work: category multipliers from
catalog.v1, the review bonus from reviews.v1 (once per review, verified buyers only), tiers
(tier.changed announced once, the tier's multiplier on the next orders, the rolling window moved
by the scheduled run with a clock the test moves), and erasure keeping every sum."""
from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import timedelta
from decimal import Decimal

import pytest

from services.loyalty import handlers
from services.loyalty.domain.rules import EarningRules, Tier
from services.loyalty.tier_refresh import refresh_store_tiers
from shared.events.envelope import Envelope, Event
from shared.events.registry import model_for
from shared.testing import Clock
from tests.support.fakes.loyalty import memory_tx
from tests.unit.loyalty.order_events import WHEN, customer_event, later, line, order_event


@pytest.fixture
def store(uid) -> str:
    return f"s{uid}"


def _event(type_: str, data: dict, n: int = 0) -> Event:
    env = Envelope(id=f"{type_}-{n}-{sorted(data.items())}", source="/services/x", type=type_,
                   subject="x", time=WHEN, data=data)
    return Event.parse(env, model_for(type_, 1))


async def _apply(tx, *events) -> None:
    for e in events:
        await handlers.HANDLERS[e.type](e, tx)


async def test_category_multipliers_come_from_the_catalog(store):
    tx = memory_tx()
    await tx.rules.put(store, EarningRules(category_multipliers={5: Decimal("2")}))
    product = {"store_id": store, "product_id": 101, "type": "simple", "name": "Tea", "status": "publish",
               "categories": [{"id": 5, "name": "Tea", "slug": "tea"}]}
    await _apply(tx, _event("product.upserted", product),
                 order_event(store, "order.paid", 1, line_items=[line(1, "10.00"), line(2, "10.00")]))
    assert await tx.ledger.balance(f"{store}:c7") == {"pending": 30, "available": 0}  # 101 doubled, 102 not


async def test_the_review_bonus_once_per_review_and_for_verified_buyers(store):
    tx = memory_tx(EarningRules(review_bonus=15))
    key = f"{store}:c7"
    review = {"store_id": store, "customer_key": key, "request_id": "r1", "product_id": 101, "rating": 5}
    await _apply(tx, _event("review.submitted", review), _event("review.submitted", review, n=1))  # two events, one review
    await _apply(tx, _event("review.submitted", {**review, "product_id": 102, "verified": False}))
    assert await tx.ledger.balance(key) == {"pending": 0, "available": 15}
    assert [(o.envelope.type, o.envelope.data["points"]) for o in tx.outbox.events] == [("points.available", 15)]
    assert tx.outbox.events[0].envelope.data.get("order_id") is None


async def test_tiers_change_apply_their_multiplier_and_expire_with_the_window(store):
    clock = Clock(WHEN)
    tiers = (Tier("Bronze", 0), Tier("Silver", 150, Decimal("1.5")))
    tx = memory_tx(EarningRules(tiers=tiers), now=clock.now)
    key = f"{store}:c7"
    await _apply(tx, order_event(store, "order.paid", 1))  # 100 points: Bronze
    await _apply(tx, order_event(store, "order.paid", 2, time=later(1)))  # 200: Silver
    changes = [(o.envelope.data["from_tier"], o.envelope.data["to_tier"]) for o in tx.outbox.of_type("tier.changed")]
    assert changes == [(None, "Bronze"), ("Bronze", "Silver")]
    await _apply(tx, order_event(store, "order.paid", 3, time=later(2)))
    assert await tx.ledger.balance(key) == {"pending": 350, "available": 0}  # the third at ×1.5
    assert len(tx.outbox.of_type("tier.changed")) == 2  # still Silver: nothing announced

    @asynccontextmanager
    async def transaction():
        yield tx

    clock.set(WHEN + timedelta(days=364))
    assert await refresh_store_tiers(transaction, [store], clock.now()) == 0
    clock.set(WHEN + timedelta(days=366))  # all three orders left the window
    assert await refresh_store_tiers(transaction, [store], clock.now()) == 1
    assert await refresh_store_tiers(transaction, [store], clock.now()) == 0  # a second instance: nothing
    assert [o.envelope.data["to_tier"] for o in tx.outbox.of_type("tier.changed")] == ["Bronze", "Silver", "Bronze"]


async def test_a_cancelled_order_takes_its_points_out_of_the_tier(store):
    tx = memory_tx(EarningRules(tiers=(Tier("Bronze", 0), Tier("Silver", 150))))
    await _apply(tx, order_event(store, "order.paid", 1), order_event(store, "order.paid", 2, time=later(1)))
    await _apply(tx, order_event(store, "order.cancelled", 2, time=later(2)))
    assert [o.envelope.data["to_tier"] for o in tx.outbox.of_type("tier.changed")] == ["Bronze", "Silver", "Bronze"]


async def test_erasure_removes_the_email_and_keeps_every_sum(store):
    tx = memory_tx()
    guest, key = f"{store}:e{'c' * 64}", f"{store}:c7"
    await _apply(tx, order_event(store, "order.paid", 1, customer_key=guest),
                 customer_event(store, "customer.linked", {"from_key": guest, "to_key": key}),
                 order_event(store, "order.paid", 2, customer_key=key))
    assert (await tx.members.get(key)).email == "x@example.com"
    total = sum(r.points for r in tx.ledger.rows)
    erased = customer_event(store, "customer.erased", {"customer_id": 7, "key": key}, time=later(5))
    await _apply(tx, erased, erased)
    assert await tx.members.get(key) is None and await tx.members.get(guest) is None
    assert {r.customer_key for r in tx.ledger.rows} <= {r.customer_key for r in tx.ledger.rows
                                                        if r.customer_key.startswith(f"{store}:x")}
    assert sum(r.points for r in tx.ledger.rows) == total
    assert await tx.ledger.balance(key) == {"pending": 0, "available": 0}
    # A late refund of an erased customer's order lands on the pseudonym, not back on the key.
    await _apply(tx, order_event(store, "order.cancelled", 2, customer_key=key, time=later(6)))
    assert await tx.ledger.balance(key) == {"pending": 0, "available": 0}
    assert sum(r.points for r in tx.ledger.rows) == total - 100
    assert all(m["email"] is None for m in tx.members.rows.values())
