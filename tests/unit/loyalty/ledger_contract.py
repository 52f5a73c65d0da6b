"""One contract for the ledger and its fake: MemoryLedger runs it in tests/unit/loyalty, PgLedger
against PostgreSQL in tests/integration/loyalty — so handler tests on the fake can be trusted.
All entries here are written at one moment (one transaction in PostgreSQL, a still clock in memory).
The order facts and customer links keep theirs the same way (check_facts_contract)."""
from __future__ import annotations

from decimal import Decimal

from services.loyalty.domain.award import Award, LineAward
from services.loyalty.domain.order_points import OrderFacts, RefundFact
from tests.unit.loyalty.order_events import WHEN


async def check_ledger_contract(ledger, store_id: str) -> None:
    key, other = f"{store_id}:c1", f"{store_id}:c2"

    async def add(entry_id: str, *, customer_key: str = key, order_id: int | None = 1, bucket: str = "pending",
                  points: int = 10, reason: str = "order.paid") -> bool:
        return await ledger.append(entry_id=f"{store_id}-{entry_id}", cause_event_id=f"cause-{entry_id}",
                                   customer_key=customer_key, store_id=store_id, order_id=order_id, bucket=bucket,
                                   points=points, reason=reason)

    assert await ledger.balance(key) == {"pending": 0, "available": 0}  # every bucket, even with no entry
    assert await ledger.entries(key) == []
    assert await ledger.order_points(store_id, 1, "pending") == 0
    assert await ledger.earned_for_order(store_id, 1) == 0

    assert await add("a", points=100) is True
    assert await add("a", points=999, bucket="available") is False  # a repeated entry id changes nothing
    assert await add("b", points=-100, reason="order.completed") is True
    assert await add("c", bucket="available", points=100, reason="order.completed") is True
    assert await add("d", bucket="available", points=-30, reason="order.refunded") is True
    assert await add("e", order_id=2, points=40) is True
    assert await add("f", customer_key=other, order_id=3, points=7) is True
    assert await add("g", order_id=None, bucket="available", points=5, reason="adjustment") is True

    assert await ledger.order_points(store_id, 1, "pending") == 0
    assert await ledger.order_points(store_id, 1, "available") == 70
    assert await ledger.order_points(store_id, 2, "pending") == 40
    assert await ledger.order_position(store_id, 1) == (0, 70)
    assert await ledger.order_position(store_id, 404) == (0, 0)
    assert await ledger.earned_for_order(store_id, 1) == 100  # only what order.paid wrote
    assert await ledger.earned_for_order(store_id, 2) == 40
    assert await ledger.balance(key) == {"pending": 40, "available": 75}
    assert await ledger.balance(other) == {"pending": 7, "available": 0}

    assert await ledger.holdings(key) == [(store_id, None, "available", 5), (store_id, 1, "available", 70),
                                          (store_id, 2, "pending", 40)]  # order 1's pending is 0: left out
    assert await ledger.holdings(f"{store_id}:c404") == []

    entries = await ledger.entries(key)
    assert [e.entry_id for e in entries] == [f"{store_id}-{x}" for x in "abcdeg"]  # same moment: by entry id
    first = entries[0]
    assert (first.cause_event_id, first.customer_key, first.store_id, first.order_id, first.bucket, first.points,
            first.reason) == ("cause-a", key, store_id, 1, "pending", 100, "order.paid")
    assert first.created_at.tzinfo is not None
    assert entries[-1].order_id is None
    assert [e.entry_id for e in await ledger.entries(key, limit=2)] == [f"{store_id}-a", f"{store_id}-b"]
    assert [e.entry_id for e in await ledger.entries(key, limit=2, offset=4)] == [f"{store_id}-e", f"{store_id}-g"]


async def check_facts_contract(orders, links, store_id: str) -> None:
    key, guest = f"{store_id}:c1", f"{store_id}:e{'f' * 64}"
    assert await orders.get(store_id, 1) is None
    award = Award("JPY", Decimal("1500"), (LineAward(1, 101, Decimal("1500"), 15),), order_level=2, bonus=2)
    facts = (OrderFacts(store_id, 1, guest).with_award(award, "ev-1", WHEN).with_status("processing", WHEN, 1)
             .with_refund(RefundFact(9, Decimal("100"), ((1, None, Decimal("100")),), False))
             .with_refund(RefundFact(10, Decimal("5"), None, False)))
    await orders.put(facts)
    assert await orders.get(store_id, 1) == facts
    await orders.put(facts.with_status("completed", WHEN, 4))  # an update replaces the row
    assert (await orders.get(store_id, 1)).status == "completed"
    await orders.put(OrderFacts(store_id, 2, guest).with_status("pending", WHEN, 0))  # no award
    assert await orders.has_award(guest, exclude_order=(store_id, 2)) is True
    assert await orders.has_award(guest, exclude_order=(store_id, 1)) is False
    assert [f.order_id for f in await orders.of_customer(guest)] == [1, 2]

    assert await links.canonical(guest) == guest
    assert await links.link(guest, key, "ev-link") is True
    assert await links.link(guest, f"{store_id}:c2", "ev-other") is False  # once per guest key
    assert await links.canonical(guest) == key
    assert await links.link(key, f"{store_id}:c3", "ev-chain") is True
    assert await links.canonical(guest) == f"{store_id}:c3"  # followed
    assert await links.link(f"{store_id}:c3", guest, "ev-loop") is True
    assert await links.canonical(guest) in {guest, key, f"{store_id}:c3"}  # a loop ends, somewhere on it

    assert await orders.rekey(guest, key) == 2
    assert await orders.of_customer(guest) == []
    assert [f.customer_key for f in await orders.of_customer(key)] == [key, key]


async def check_members_contract(members, catalog, referrals, redemptions, store_id: str) -> None:
    """PgMembers/MemoryMembers, PgCatalog/MemoryCatalog, PgReferrals/MemoryReferrals and
    PgRedemptions/MemoryRedemptions answer alike."""
    from datetime import timedelta

    key = f"{store_id}:c1"
    assert await members.get(key) is None
    await members.seen(key, store_id, "ana@example.com")
    await members.seen(key, store_id, None)  # an event without an email keeps the one known
    m = await members.get(key)
    assert (m.customer_key, m.store_id, m.email, m.tier) == (key, store_id, "ana@example.com", None)
    assert (await members.lock(key)).email == "ana@example.com"
    assert await members.change_tier(key, store_id, "Gold", WHEN) is None  # from no tier
    assert await members.change_tier(key, store_id, "Gold", WHEN) is False  # unchanged
    assert await members.change_tier(key, store_id, "Silver", WHEN) == "Gold"
    assert await members.tiered(store_id) == [key]
    await members.touch(key, store_id, WHEN)
    await members.touch(key, store_id, WHEN - timedelta(days=3))  # older activity changes nothing
    await members.set_birthday(key, store_id, 2, 29)
    assert await members.born_on(store_id, [(2, 28), (2, 29)]) == [key]
    assert await members.born_on(store_id, [(3, 1)]) == []
    assert store_id in await members.stores()

    await catalog.put(store_id, 5, [3, 1])
    await catalog.put(store_id, 5, [7])  # the latest categories
    assert await catalog.categories(store_id, [5, 6]) == {5: [7]}

    code = await referrals.code_for(key, store_id, "ref-contract1")
    assert code == "ref-contract1" and await referrals.code_for(key, store_id, "ref-contract2") == "ref-contract1"
    assert await referrals.owner("ref-contract1") == key and await referrals.owner("ref-nobody") is None
    assert await referrals.add(referred_key=f"{store_id}:c2", referrer_key=key, store_id=store_id, status="pending",
                               reason=None) is True
    assert await referrals.add(referred_key=f"{store_id}:c2", referrer_key=key, store_id=store_id, status="refused",
                               reason="x") is False
    await referrals.settle(f"{store_id}:c2", "rewarded", order_id=9)
    r = await referrals.get(f"{store_id}:c2")
    assert (r.referrer_key, r.status, r.reason, r.order_id) == (key, "rewarded", None, 9)

    rid = f"{store_id}-red-1"
    await redemptions.create(redemption_id=rid, customer_key=key, store_id=store_id, points=500,
                             amount=Decimal("5.00"), currency="USD", minimum_amount=Decimal("15.00"),
                             code=f"loy-{store_id}", expires_at=WHEN)
    got = await redemptions.get(rid)
    assert (got.status, got.points, got.amount, got.code, got.coupon_id, got.attempts) == (
        "held", 500, Decimal("5.00"), f"loy-{store_id}", None, 0)
    await redemptions.attempted(rid, "ConnectError")
    assert (await redemptions.get(rid)).attempts == 1
    assert await redemptions.settle(rid, "issued", coupon_id=77) is True
    assert await redemptions.settle(rid, "returned") is False  # it left `held` once
    assert ((await redemptions.get(rid)).status, (await redemptions.get(rid)).coupon_id) == ("issued", 77)
