"""Loyalty handlers: one per order event type, registered in HANDLERS at the bottom; the other
orders.v1 types are named in IGNORED.

Each handler gets the event parsed with ingest's model and `tx`, the unit of work of the consumer's
transaction (adapters/unit_of_work.py): ledger rows go to `tx.ledger`, the loyalty.v1 events
announcing them to `tx.outbox`, both keyed by the causing event's id so a replay adds nothing.
"""
from __future__ import annotations

from services.loyalty.adapters.unit_of_work import LoyaltyUnitOfWork
from services.loyalty.domain.ledger import AVAILABLE, PENDING
from services.loyalty.domain.points import earning_base, points_for, reversal_for
from shared.events.envelope import Event, Outgoing, derived_event_id
from shared.events.follow_up import follow_up_event
from shared.events.orders import OrderEvent, OrderRefunded


def _announce(cause: Event[OrderEvent], event_type: str, data: dict) -> Outgoing:
    return follow_up_event(service="loyalty", cause_id=cause.id, event_type=event_type,
                           key=cause.data.customer.key, time=cause.time, data=data)


def _points_moved(order: OrderEvent, points: int, bucket: str | None = None) -> dict:
    data = {"store_id": order.store_id, "customer_key": order.customer.key, "order_id": order.order_id,
            "points": points}
    return data if bucket is None else {**data, "bucket": bucket}


async def _move(event: Event[OrderEvent], tx: LoyaltyUnitOfWork, *, bucket: str, points: int, reason: str,
                announce: str | None) -> None:
    """One ledger entry in `bucket` (nothing when `points` is 0), announced as `announce` if given."""
    d = event.data
    if points == 0:
        return
    await tx.ledger.append(entry_id=derived_event_id(event.id, f"ledger:{bucket}"), cause_event_id=event.id,
                           customer_key=d.customer.key, store_id=d.store_id, order_id=d.order_id,
                           bucket=bucket, points=points, reason=reason)
    if announce:
        await tx.outbox.write([_announce(event, announce, _points_moved(d, abs(points), bucket))])


async def on_order_paid(event: Event[OrderEvent], tx: LoyaltyUnitOfWork) -> None:
    d = event.data
    pts = points_for(earning_base(d.subtotal_after_discounts, [li.total for li in d.line_items]),
                     tx.config.points_per_unit)
    await _move(event, tx, bucket=PENDING, points=pts, reason="order.paid", announce="points.pending")


async def on_order_completed(event: Event[OrderEvent], tx: LoyaltyUnitOfWork) -> None:
    d = event.data
    pending = await tx.ledger.order_points(d.store_id, d.order_id, PENDING)
    if pending > 0:
        await _move(event, tx, bucket=PENDING, points=-pending, reason="order.completed", announce=None)
        await _move(event, tx, bucket=AVAILABLE, points=pending, reason="order.completed",
                    announce="points.available")


async def on_order_refunded(event: Event[OrderRefunded], tx: LoyaltyUnitOfWork) -> None:
    d = event.data
    earned = await tx.ledger.earned_for_order(d.store_id, d.order_id)
    pending = await tx.ledger.order_points(d.store_id, d.order_id, PENDING)
    remaining = max(pending, 0) + max(await tx.ledger.order_points(d.store_id, d.order_id, AVAILABLE), 0)
    # A full refund takes back everything the order still holds (proportional floors would leave
    # a point or two behind); a partial one its share, never more than what is left.
    take = remaining if d.refund.is_full else min(reversal_for(d.refund.amount, d.total, earned), remaining)
    # Take back from pending first (not yet spendable), then from available.
    from_pending = min(take, max(pending, 0))
    await _move(event, tx, bucket=PENDING, points=-from_pending, reason="order.refunded", announce=None)
    await _move(event, tx, bucket=AVAILABLE, points=-(take - from_pending), reason="order.refunded",
                announce=None)
    if take:
        await tx.outbox.write([_announce(event, "points.reversed", _points_moved(d, take))])


async def on_order_cancelled(event: Event[OrderEvent], tx: LoyaltyUnitOfWork) -> None:
    d = event.data
    pending = await tx.ledger.order_points(d.store_id, d.order_id, PENDING)
    await _move(event, tx, bucket=PENDING, points=-pending, reason="order.cancelled",
                announce="points.reversed")


HANDLERS = {
    "order.paid": on_order_paid,
    "order.completed": on_order_completed,
    "order.refunded": on_order_refunded,
    "order.cancelled": on_order_cancelled,
}
# orders.v1 types that move no points (today): skipped by the consumer loop on purpose.
IGNORED = frozenset({
    "order.placed", "order.status_changed", "order.on_hold", "order.shipped", "order.failed",
    "order.deleted", "order.restored",
})
