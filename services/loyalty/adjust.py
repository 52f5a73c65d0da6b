"""Manual adjustments: a person changes a balance by hand, with the reason and who they are kept
beside the ledger entry. Under the member's lock (as redemption): a deduction never takes the
available balance below zero. A retried request (same idempotency key) changes nothing twice."""
from __future__ import annotations

from datetime import datetime

from services.loyalty.domain.ledger import AVAILABLE
from services.loyalty.domain.redemption import Refused
from shared.events.envelope import derived_event_id, event_id


async def adjust(tx, *, customer_key: str, points: int, reason: str, actor: str, idempotency_key: str,
                 now: datetime) -> dict:
    store_id = customer_key.split(":", 1)[0]
    adjustment_id = event_id("loyalty", "adjustment", customer_key, idempotency_key)
    await tx.members.seen(customer_key, store_id, None)
    await tx.members.lock(customer_key)
    existing = await tx.adjustments.get(adjustment_id)
    if existing is not None:
        if existing["points"] != points:
            raise Refused("idempotency_key_reused", "this idempotency key was used for another adjustment")
        return existing
    available = (await tx.ledger.balance(customer_key))["available"]
    if available + points < 0:
        raise Refused("not_enough_points", f"{-points} points to take, {max(available, 0)} available")
    await tx.adjustments.add(adjustment_id=adjustment_id, customer_key=customer_key, store_id=store_id, points=points,
                             reason=reason, actor=actor)
    await tx.ledger.append(entry_id=derived_event_id(adjustment_id, "ledger:adjustment"), cause_event_id=adjustment_id,
                           customer_key=customer_key, store_id=store_id, order_id=None, bucket=AVAILABLE,
                           points=points, reason="adjustment")
    if points > 0:
        await tx.members.touch(customer_key, store_id, now)
    return await tx.adjustments.get(adjustment_id)
