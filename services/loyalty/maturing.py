"""The return window: pending points of an order paid more than the store's `return_window_days`
ago become available without waiting for order.completed. Each order in a transaction of its own;
the ledger entries and the points.available announcement are keyed by "matured:<store>:<order>",
so two instances running this at once write them once (and the order's facts row is locked)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from services.loyalty.settle import settle


async def mature_orders(transaction: Callable, now: datetime) -> int:
    matured = 0
    async with transaction() as tx:
        stores = await tx.orders.stores()
    for store_id in stores:
        async with transaction() as tx:
            rules = await tx.rules.for_store(store_id)
            if rules.return_window_days is None:
                continue
            due = await tx.orders.due_to_mature(store_id, now - timedelta(days=rules.return_window_days))
        for order_id in due:
            async with transaction() as tx:
                facts = await tx.orders.get(store_id, order_id)
                if facts is None or facts.matured:
                    continue
                facts = facts.matured_now()
                await tx.orders.put(facts)
                await settle(tx, facts, cause_id=f"matured:{store_id}:{order_id}", reason="return_window", time=now)
                matured += 1
    return matured
