"""The scheduled runs against real PostgreSQL, two instances at once: the return window, expiry
(warning then expiry) and the tier refresh each write and announce once."""
from __future__ import annotations

import asyncio
from datetime import timedelta

from services.loyalty import handlers
from services.loyalty.adapters.ledger import PgLedger
from services.loyalty.bootstrap import transactions
from services.loyalty.config import LoyaltySettings
from services.loyalty.domain.expiry import add_months
from services.loyalty.expiry import expire_points
from services.loyalty.maturing import mature_orders
from services.loyalty.tier_refresh import refresh_store_tiers
from tests.unit.loyalty.order_events import WHEN, later, order_event


async def test_two_instances_mature_expire_and_refresh_once(pool, uid):
    store, key = f"s{uid}", f"s{uid}:c7"
    settings = LoyaltySettings(return_window_days=14, expiry_months=6, expiry_warning_days=10)
    run = transactions(lambda: pool, settings)
    async with run() as tx:
        await tx.rules.put_json(store, {"tiers": [{"name": "Bronze", "min_points": 0, "multiplier": "1"},
                                                  {"name": "Silver", "min_points": 150, "multiplier": "1"}]})
    for event in (order_event(store, "order.paid", 1), order_event(store, "order.paid", 2, time=later(1))):
        async with run() as tx:
            await handlers.HANDLERS[event.type](event, tx)
    ledger = PgLedger(pool)
    assert await ledger.balance(key) == {"pending": 200, "available": 0}

    matured = await asyncio.gather(mature_orders(run, WHEN + timedelta(days=15)),
                                   mature_orders(run, WHEN + timedelta(days=15)))
    assert sum(matured) == 2 and await ledger.balance(key) == {"pending": 0, "available": 200}
    expiry = add_months(later(1), 6)  # six months after the last activity (the second order)
    await asyncio.gather(expire_points(run, expiry - timedelta(days=5)), expire_points(run, expiry - timedelta(days=5)))
    await asyncio.gather(expire_points(run, expiry), expire_points(run, expiry))
    assert await ledger.balance(key) == {"pending": 0, "available": 0}
    await asyncio.gather(refresh_store_tiers(run, [store], WHEN + timedelta(days=400)),
                         refresh_store_tiers(run, [store], WHEN + timedelta(days=400)))
    types = [r["event_type"] for r in await pool.fetch("SELECT event_type FROM outbox WHERE key = $1 ORDER BY seq", key)]
    assert types.count("points.available") == 2  # one per order
    assert types.count("points.expiring") == 1 and types.count("points.expired") == 1
    assert types.count("tier.changed") == 3  # Bronze, Silver, then back to Bronze once the window moved on
    assert await pool.fetchval("SELECT count(*) FROM ledger WHERE customer_key = $1 AND reason = 'expiry'", key) == 1


async def test_birthday_bonus_once_with_two_instances(pool, uid):
    from services.loyalty.birthdays import grant_birthday_bonuses

    store, key = f"s{uid}", f"s{uid}:c7"
    run = transactions(lambda: pool, LoyaltySettings(birthday_bonus=40))
    async with run() as tx:
        await tx.members.set_birthday(key, store, 2, 29)
        await tx.members.set_birthday(f"{store}:c8", store, 3, 1)
    feb28 = WHEN.replace(month=2, day=28)  # 2026: no 29 February
    granted = await asyncio.gather(grant_birthday_bonuses(run, feb28), grant_birthday_bonuses(run, feb28))
    assert sum(granted) == 1
    assert await PgLedger(pool).balance(key) == {"pending": 0, "available": 40}
    assert await PgLedger(pool).balance(f"{store}:c8") == {"pending": 0, "available": 0}
