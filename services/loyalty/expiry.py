"""Points expiry, scheduled: a member whose last activity is older than the store's
`expiry_months` loses their available points (a ledger entry, points.expired); `expiry_warning_days`
before that, points.expiring warns them. Both are keyed by the member and the moment of their last
activity, so a rerun — or a second instance running at the same time, the member's row locked —
writes and announces each once, and new activity starts a new period."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from services.loyalty.domain.expiry import expires_at, warn_from
from services.loyalty.domain.ledger import AVAILABLE
from services.loyalty.metrics import loyalty_metrics
from shared.events.envelope import event_id
from shared.events.follow_up import follow_up_event


async def expire_points(transaction: Callable, now: datetime) -> tuple[int, int]:
    """Returns (warnings sent, members expired)."""
    warned = expired = 0
    async with transaction() as tx:
        stores = await tx.members.stores()
    for store_id in stores:
        async with transaction() as tx:
            rules = await tx.rules.for_store(store_id)
            if rules.expiry_months is None:
                continue
            # Members inactive for longer than the period less its warning (a month's slack for
            # calendar months), then exactly by their own dates.
            horizon = now - timedelta(days=max(rules.expiry_months * 28 - rules.expiry_warning_days, 0))
            candidates = [(k, last) for k, last in await tx.members.inactive_since(store_id, horizon)
                          if warn_from(last, rules.expiry_months, rules.expiry_warning_days) <= now]
        for key, last in candidates:
            async with transaction() as tx:
                member = await tx.members.lock(key)
                if member is None:
                    continue
                available = (await tx.ledger.balance(key))["available"]
                if available <= 0:
                    continue
                when = expires_at(last, rules.expiry_months)
                period = f"{key}|{last.isoformat()}"
                data = {"store_id": store_id, "customer_key": key, "points": available, "expires_at": when}
                if now >= when:
                    entry = event_id("loyalty", "expiry", period)
                    if await tx.ledger.append(entry_id=entry, cause_event_id=entry, customer_key=key, store_id=store_id,
                                              order_id=None, bucket=AVAILABLE, points=-available, reason="expiry"):
                        await tx.outbox.write([follow_up_event(service="loyalty", cause_id=entry,
                                                               event_type="points.expired", key=key, time=now,
                                                               data=data)])
                        loyalty_metrics().expired.labels(store_id).inc(available)
                        expired += 1
                else:
                    cause = event_id("loyalty", "expiring", period)
                    if await tx.outbox.write([follow_up_event(service="loyalty", cause_id=cause,
                                                              event_type="points.expiring", key=key, time=now,
                                                              data=data)]):
                        warned += 1
    return warned, expired
