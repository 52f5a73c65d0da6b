"""Settling an order's points: record what an event says about the order (its award, status,
refund) in the order's facts, derive the order's position from all its facts
(domain/order_points.py) and write the difference from what the ledger holds as entries keyed by
the causing event, announced on loyalty.v1. Every order handler is this one use case."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from services.loyalty.domain.award import compute_award
from services.loyalty.domain.ledger import AVAILABLE, PENDING
from services.loyalty.domain.order_points import OrderFacts, Position, RefundFact, moves, position
from services.loyalty.metrics import loyalty_metrics
from services.loyalty.referrals import reward_if_due
from services.loyalty.tier_refresh import refresh_tier
from shared.events.envelope import derived_event_id
from shared.events.follow_up import follow_up_event
from shared.events.orders import OrderEvent, Refund

# Two statuses stamped with the same second: the later step of an order's life wins (a refund's
# status is the order's at the time: a partial refund doesn't undo a completion; a full one
# takes everything by itself).
STATUS_RANK = {"order.placed": 0, "order.paid": 1, "order.on_hold": 2, "order.status_changed": 3,
               "order.refunded": 3, "order.completed": 4, "order.cancelled": 6, "order.failed": 6,
               "order.deleted": 7, "order.restored": 8}

# The events that award an order's points: paid, or completed when no paid event came first (an
# order paid on delivery, or the paid event delayed behind the completed one).
AWARDING = frozenset({"order.paid", "order.completed"})


def refund_fact(refund: Refund) -> RefundFact:
    lines = None if refund.line_items is None else tuple(
        (li.line_id, li.product_id, Decimal(li.total)) for li in refund.line_items)
    return RefundFact(refund_id=refund.refund_id, amount=Decimal(refund.amount), lines=lines, is_full=refund.is_full)


async def record_order_event(tx, *, event_id: str, event_type: str, time: datetime, store_id: str, order_id: int,
                             customer_key: str, status: str, order: OrderEvent | None = None,
                             refund: Refund | None = None) -> OrderFacts:
    """Apply one order event's facts; `order` (a full order payload) may award the order's points."""
    known = await tx.orders.get(store_id, order_id)
    own = await tx.links.canonical(customer_key)
    # An order loyalty knows stays with the key it was moved to (a link, an erasure's pseudonym).
    key = own if known is None or known.customer_key in (customer_key, own) else \
        await tx.links.canonical(known.customer_key)
    facts = (known or OrderFacts(store_id, order_id, key)).with_customer(key)
    rules = await tx.rules.for_store(store_id)
    # The email coupons are restricted to: the latest a paid or completed order carried (never
    # beside a pseudonym).
    if order is not None and order.customer.email and key == own and event_type in AWARDING:
        await tx.members.seen(key, store_id, order.customer.email)
    if order is not None and facts.award is None and event_type in AWARDING:
        paid_at = order.dates.paid or time
        first = not await tx.orders.has_award(key, exclude_order=(store_id, order_id))
        member = await tx.members.get(key)
        tier = rules.tier_named(member.tier if member else None)
        categories = await tx.catalog.categories(store_id, [li.product_id for li in order.line_items])
        award = compute_award(order, rules, when=paid_at, first_order=first, categories=categories,
                              tier_multiplier=tier.multiplier if tier else Decimal("1"))
        facts = facts.with_award(award, event_id, paid_at)
        metrics = loyalty_metrics()
        if award.points:
            await tx.members.touch(key, store_id, paid_at)
            metrics.earned.labels(store_id).inc(award.points)
        else:
            metrics.unearned.labels(store_id, award.reason).inc()
    facts = facts.with_status(status, time, STATUS_RANK.get(event_type, 3))
    if refund is not None:
        facts = facts.with_refund(refund_fact(refund))
    await tx.orders.put(facts)
    after = await settle(tx, facts, cause_id=event_id, reason=event_type, time=time)
    if facts.status == "completed" and after.available > 0:
        await reward_if_due(tx, customer_key=key, store_id=store_id, order_id=order_id, cause_id=event_id, time=time,
                            rules=rules)
    await refresh_tier(tx, customer_key=key, store_id=store_id, rules=rules, cause_id=event_id, now=time)
    return facts


async def settle(tx, facts: OrderFacts, *, cause_id: str, reason: str, time: datetime) -> Position:
    """Move the ledger to the order's position; announce what moved. Returns the new position."""
    pending, available = await tx.ledger.order_position(facts.store_id, facts.order_id)
    before = Position(pending=pending, available=available)
    after = position(facts)
    for bucket, delta in ((PENDING, after.pending - before.pending), (AVAILABLE, after.available - before.available)):
        if delta:
            await tx.ledger.append(entry_id=derived_event_id(cause_id, f"ledger:{bucket}"), cause_event_id=cause_id,
                                   customer_key=facts.customer_key, store_id=facts.store_id, order_id=facts.order_id,
                                   bucket=bucket, points=delta, reason=reason)
    m = moves(before, after)
    base = {"store_id": facts.store_id, "customer_key": facts.customer_key, "order_id": facts.order_id}
    out = []
    if m.pending_added:
        out.append(("points.pending", {**base, "points": m.pending_added, "bucket": PENDING}))
    if m.made_available:
        out.append(("points.available", {**base, "points": m.made_available, "bucket": AVAILABLE}))
    if m.reversed:
        out.append(("points.reversed", {**base, "points": m.reversed, "bucket": m.reversed_bucket}))
        loyalty_metrics().reversed.labels(facts.store_id).inc(m.reversed)
    if out:
        await tx.outbox.write([follow_up_event(service="loyalty", cause_id=cause_id, event_type=t,
                                               key=facts.customer_key, time=time, data=data) for t, data in out])
    return after
