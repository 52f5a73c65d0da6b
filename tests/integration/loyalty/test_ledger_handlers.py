"""Loyalty's handlers against its real database: each event applied in its own transaction with the
unit of work the consumer loop builds (LoyaltyUnitOfWork on that connection); the balance in the
ledger after each order event, the loyalty.v1 events in the outbox, and no second effect from a
repeated event. Also PgLedger against the contract its in-memory twin keeps."""
from __future__ import annotations

import orjson

from services.loyalty import handlers
from services.loyalty.adapters.ledger import PgLedger
from services.loyalty.adapters.unit_of_work import LoyaltyUnitOfWork
from shared.events.envelope import Event
from tests.unit.loyalty.ledger_contract import check_facts_contract, check_ledger_contract, check_members_contract
from tests.unit.loyalty.order_events import order_event, refund


def _event(uid: str, type_: str, order_id: int, **extra) -> Event:
    return order_event(f"s{uid}", type_, order_id, **extra)


async def _apply(pool, event: Event, fn) -> None:
    async with pool.acquire() as conn:
        async with conn.transaction():
            await fn(event, LoyaltyUnitOfWork(conn))


async def test_points_follow_the_order(pool, uid):
    key = f"s{uid}:c7"
    ledger = PgLedger(pool)
    paid = _event(uid, "order.paid", 1)
    await _apply(pool, paid, handlers.on_order_paid)
    await _apply(pool, paid, handlers.on_order_paid)  # a repeat writes nothing new (entry id = cause id)
    assert await ledger.balance(key) == {"pending": 100, "available": 0}

    await _apply(pool, _event(uid, "order.refunded", 1, refund=refund(5, "11.00", full=False)),
                 handlers.on_order_refunded)
    assert await ledger.balance(key) == {"pending": 90, "available": 0}  # 10% of the money back → 10% of points

    await _apply(pool, _event(uid, "order.completed", 1), handlers.on_order_completed)
    assert await ledger.balance(key) == {"pending": 0, "available": 90}

    await _apply(pool, _event(uid, "order.refunded", 1, refund=refund(6, "99.00", full=True)),
                 handlers.on_order_refunded)
    assert await ledger.balance(key) == {"pending": 0, "available": 0}

    # Proportional shares round down; the full refund takes what is left, not 1 point less.
    await _apply(pool, _event(uid, "order.paid", 3), handlers.on_order_paid)
    for n, (amount, full) in enumerate([("3.30", False), ("3.30", False), ("103.40", True)]):
        await _apply(pool, _event(uid, "order.refunded", 3, refund=refund(10 + n, amount, full=full)),
                     handlers.on_order_refunded)
    assert await ledger.balance(key) == {"pending": 0, "available": 0}

    await _apply(pool, _event(uid, "order.paid", 2), handlers.on_order_paid)
    await _apply(pool, _event(uid, "order.cancelled", 2), handlers.on_order_cancelled)
    assert await ledger.balance(key) == {"pending": 0, "available": 0}

    rows = await pool.fetch("SELECT payload FROM outbox WHERE key = $1 ORDER BY seq", key)
    events = [orjson.loads(r["payload"]) for r in rows]
    assert [e["type"] for e in events] == ["points.pending", "points.reversed", "points.available",
                                           "points.reversed", "points.pending", "points.reversed",
                                           "points.reversed", "points.reversed", "points.pending",
                                           "points.reversed"]
    assert [e["data"]["points"] for e in events] == [100, 10, 90, 90, 100, 3, 3, 94, 100, 100]
    assert {e["data"]["customer_key"] for e in events} == {key}


async def test_pg_ledger_keeps_the_ledger_contract(pool, uid):
    async with pool.acquire() as conn:
        tr = conn.transaction()
        await tr.start()
        try:
            await check_ledger_contract(PgLedger(conn), f"s{uid}")
        finally:
            await tr.rollback()  # nothing stays behind


async def test_pg_order_facts_and_links_keep_their_contract(pool, uid):
    async with pool.acquire() as conn:
        tr = conn.transaction()
        await tr.start()
        try:
            tx = LoyaltyUnitOfWork(conn)
            await check_facts_contract(tx.orders, tx.links, f"s{uid}")
        finally:
            await tr.rollback()


async def test_pg_members_catalog_referrals_redemptions_keep_their_contract(pool, uid):
    async with pool.acquire() as conn:
        tr = conn.transaction()
        await tr.start()
        try:
            tx = LoyaltyUnitOfWork(conn)
            await check_members_contract(tx.members, tx.catalog, tx.referrals, tx.redemptions, f"s{uid}")
        finally:
            await tr.rollback()


async def test_entries_come_newest_first(pool, uid):
    store, key = f"s{uid}", f"s{uid}:c1"
    ledger = PgLedger(pool)
    for n, entry_id in enumerate([f"{uid}-z-old", f"{uid}-a-new"]):  # one transaction each: two moments
        await ledger.append(entry_id=entry_id, cause_event_id="c", customer_key=key, store_id=store, order_id=n,
                            bucket="pending", points=1, reason="order.paid")
    assert [e.entry_id for e in await ledger.entries(key)] == [f"{uid}-a-new", f"{uid}-z-old"]


async def test_erasure_in_postgresql_keeps_every_sum_and_no_personal_data(pool, uid):
    from services.loyalty.domain.rules import EarningRules, Tier
    from tests.unit.loyalty.order_events import customer_event

    store, guest, key = f"s{uid}", f"s{uid}:e{'d' * 64}", f"s{uid}:c7"
    defaults = EarningRules(tiers=(Tier("Bronze", 0),))

    async def apply(event):
        async with pool.acquire() as conn:
            async with conn.transaction():
                await handlers.HANDLERS[event.type](event, LoyaltyUnitOfWork(conn, defaults=defaults))

    await apply(order_event(store, "order.paid", 1, customer_key=guest))
    await apply(customer_event(store, "customer.linked", {"from_key": guest, "to_key": key}))
    await apply(order_event(store, "order.paid", 2, customer_key=key))
    async with pool.acquire() as conn:
        async with conn.transaction():
            tx = LoyaltyUnitOfWork(conn)
            await tx.referrals.code_for(key, store, "ref-erasetest1")
            await tx.adjustments.add(adjustment_id=f"adj-{uid}", customer_key=key, store_id=store, points=5,
                                     reason="test", actor="t")
    assert await pool.fetchval("SELECT email FROM members WHERE customer_key = $1", key) == "x@example.com"
    assert await pool.fetchval("SELECT tier FROM members WHERE customer_key = $1", key) == "Bronze"
    total = await pool.fetchval("SELECT sum(points) FROM ledger WHERE store_id = $1", store)
    erased = customer_event(store, "customer.erased", {"customer_id": 7, "key": key})
    await apply(erased)
    await apply(erased)  # nothing left to move the second time
    keys = {r["customer_key"] for r in await pool.fetch("SELECT customer_key FROM ledger WHERE store_id = $1", store)}
    assert len(keys) == 1 and keys.pop().startswith(f"{store}:x")
    assert await pool.fetchval("SELECT sum(points) FROM ledger WHERE store_id = $1", store) == total
    assert await pool.fetchval("SELECT count(*) FROM members WHERE customer_key = ANY($1::text[])", [key, guest]) == 0
    assert await pool.fetchval("SELECT count(*) FROM customer_links WHERE from_key = $1 OR to_key = $2", guest,
                               key) == 0
    assert await pool.fetchval("SELECT count(*) FROM order_facts WHERE customer_key = ANY($1::text[])",
                               [key, guest]) == 0
    assert await pool.fetchval("SELECT count(*) FROM members WHERE email IS NOT NULL AND store_id = $1", store) == 0
    for table in ("redemptions", "adjustments", "referral_codes"):
        assert await pool.fetchval(f"SELECT count(*) FROM {table} WHERE customer_key = ANY($1::text[])",
                                   [key, guest]) == 0
