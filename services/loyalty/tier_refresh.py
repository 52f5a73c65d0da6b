"""Tiers kept current: after every order event (the customer's orders just changed) and by a
scheduled run (the rolling 12-month window moved on, so points fall out of it). A change is
written to the member row under its lock and announced as tier.changed once — the event's id
derives from the cause (the order event, or the store and day of the scheduled run), so two
instances doing the same run publish one event.

Run by entrypoints/workers.py's tier worker every `tier_refresh_interval_s`."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from services.loyalty.domain.rules import EarningRules
from services.loyalty.domain.tiers import rolling_points
from shared.events.follow_up import follow_up_event


async def refresh_tier(tx, *, customer_key: str, store_id: str, rules: EarningRules, cause_id: str,
                       now: datetime) -> str | None:
    """Recompute one member's tier at `now`; returns the new tier when it changed."""
    if not rules.tiers:
        return None
    tier = rules.tier_for(rolling_points(await tx.orders.of_customer(customer_key), now))
    name = None if tier is None else tier.name
    old = await tx.members.change_tier(customer_key, store_id, name, now)
    if old is False or name is None:  # unchanged; or out of every tier (nothing to announce)
        return None
    data = {"store_id": store_id, "customer_key": customer_key, "from_tier": old, "to_tier": name}
    await tx.outbox.write([follow_up_event(service="loyalty", cause_id=cause_id, event_type="tier.changed",
                                           key=customer_key, time=now, data=data, id_suffix=f":{customer_key}:{name}")])
    return name


async def refresh_store_tiers(transaction: Callable[[], Awaitable], store_ids: list[str], now: datetime) -> int:
    """The scheduled run: every tiered member of each store, each in a transaction of its own
    (`transaction()` is an async context manager yielding a unit of work). Returns changes made."""
    changed = 0
    for store_id in store_ids:
        async with transaction() as tx:
            rules = await tx.rules.for_store(store_id)
            members = await tx.members.tiered(store_id)
        for key in members:
            async with transaction() as tx:
                cause = f"tier-refresh:{store_id}:{now.date().isoformat()}"
                if await refresh_tier(tx, customer_key=key, store_id=store_id, rules=rules, cause_id=cause, now=now):
                    changed += 1
    return changed
