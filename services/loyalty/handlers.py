"""Loyalty handlers: one per event type, registered in HANDLERS at the bottom; the other types of
the topics loyalty reads are named in IGNORED.

Each handler gets the event parsed with its producer's model and `tx`, the unit of work of the
consumer's transaction (adapters/unit_of_work.py). Order events all go through one use case
(settle.py): record the event's facts about the order, derive the order's points position, write
the difference to `tx.ledger` keyed by the event, announce it on loyalty.v1 through `tx.outbox`.
"""
from __future__ import annotations

from services.loyalty.settle import record_order_event
from shared.events.customers import CustomerLinked
from shared.events.envelope import Event, derived_event_id
from shared.events.orders import OrderDeleted, OrderEvent, OrderRefunded, OrderStatusChanged


async def _order(event: Event[OrderEvent], tx, status: str | None = None, refund=None) -> None:
    d = event.data
    await record_order_event(tx, event_id=event.id, event_type=event.type, time=event.time, store_id=d.store_id,
                             order_id=d.order_id, customer_key=d.customer.key, status=status or d.status, order=d,
                             refund=refund)


async def on_order_paid(event: Event[OrderEvent], tx) -> None:
    await _order(event, tx)


async def on_order_completed(event: Event[OrderEvent], tx) -> None:
    await _order(event, tx)


async def on_order_on_hold(event: Event[OrderEvent], tx) -> None:
    await _order(event, tx)


async def on_order_status_changed(event: Event[OrderStatusChanged], tx) -> None:
    await _order(event, tx, status=event.data.to_status)


async def on_order_refunded(event: Event[OrderRefunded], tx) -> None:
    await _order(event, tx, refund=event.data.refund)


async def on_order_cancelled(event: Event[OrderEvent], tx) -> None:
    await _order(event, tx)


async def on_order_failed(event: Event[OrderEvent], tx) -> None:
    await _order(event, tx)


async def on_order_restored(event: Event[OrderEvent], tx) -> None:
    await _order(event, tx)


async def on_order_deleted(event: Event[OrderDeleted], tx) -> None:
    d = event.data
    await record_order_event(tx, event_id=event.id, event_type=event.type, time=event.time, store_id=d.store_id,
                             order_id=d.order_id, customer_key=d.customer.key, status="trash")


async def on_customer_linked(event: Event[CustomerLinked], tx) -> None:
    """The guest's points move to the account once: the link is recorded once per guest key, and
    the move's entries are keyed by this event (a pair per order and bucket, so each order's own
    sums stay what they were)."""
    d = event.data
    to_key = await tx.links.canonical(d.to_key)
    if to_key == d.from_key or not await tx.links.link(d.from_key, to_key, event.id):
        return
    for store_id, order_id, bucket, points in await tx.ledger.holdings(d.from_key):
        for key, pts, side in ((d.from_key, -points, "out"), (to_key, points, "in")):
            await tx.ledger.append(entry_id=derived_event_id(event.id, f"link:{order_id}:{bucket}:{side}"),
                                   cause_event_id=event.id, customer_key=key, store_id=store_id,
                                   order_id=order_id, bucket=bucket, points=pts, reason="customer.linked")
    await tx.orders.rekey(d.from_key, to_key)


HANDLERS = {
    "order.paid": on_order_paid,
    "order.on_hold": on_order_on_hold,
    "order.status_changed": on_order_status_changed,
    "order.completed": on_order_completed,
    "order.cancelled": on_order_cancelled,
    "order.failed": on_order_failed,
    "order.refunded": on_order_refunded,
    "order.deleted": on_order_deleted,
    "order.restored": on_order_restored,
    "customer.linked": on_customer_linked,
}
# Types of the topics loyalty reads that move no points: skipped by the consumer loop on purpose.
IGNORED = frozenset({
    "order.placed",  # not paid yet: nothing is earned
    "order.shipped",  # shipping changes no points
    "customer.registered", "customer.updated",
    "customer.erased",
})
