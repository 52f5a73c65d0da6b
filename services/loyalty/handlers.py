"""Loyalty handlers: one per event type, registered in HANDLERS at the bottom; the other types of
the topics loyalty reads are named in IGNORED.

Each handler gets the event parsed with its producer's model and `tx`, the unit of work of the
consumer's transaction (adapters/unit_of_work.py). Order events all go through one use case
(settle.py): record the event's facts about the order, derive the order's points position, write
the difference to `tx.ledger` keyed by the event, announce it on loyalty.v1 through `tx.outbox`.
"""
from __future__ import annotations

import uuid

from services.loyalty.domain.ledger import AVAILABLE
from services.loyalty.settle import record_order_event
from shared.events.catalog import ProductUpserted
from shared.events.customers import CustomerErased, CustomerLinked
from shared.events.envelope import Event, derived_event_id, event_id
from shared.events.follow_up import follow_up_event
from shared.events.orders import OrderDeleted, OrderEvent, OrderRefunded, OrderStatusChanged
from shared.events.reviews import ReviewSubmitted
from shared.logging import get_logger

log = get_logger(__name__)


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


async def on_customer_erased(event: Event[CustomerErased], tx) -> None:
    """Personal data goes (the member's email, the guest keys); every amount stays, under a random
    key no one can trace back. A replay finds nothing left to move."""
    d = event.data
    pseudonym = f"{d.store_id}:x{uuid.uuid4().hex}"
    moved = await tx.erasure.erase(d.key, pseudonym)
    log.info("customer_erased", event_id=event.id, event_type=event.type, entries=moved)


async def on_product_upserted(event: Event[ProductUpserted], tx) -> None:
    d = event.data
    await tx.catalog.put(d.store_id, d.product_id, sorted({c.id for c in d.categories}))


async def on_review_submitted(event: Event[ReviewSubmitted], tx) -> None:
    """The review bonus, once per review (request and product), for verified buyers only: points
    for a review anyone can write would buy reviews."""
    d = event.data
    rules = await tx.rules.for_store(d.store_id)
    if rules.review_bonus <= 0 or not d.verified:
        return
    key = await tx.links.canonical(d.customer_key)
    entry = event_id("loyalty", "review-bonus", d.store_id, d.request_id, d.product_id)
    if not await tx.ledger.append(entry_id=entry, cause_event_id=event.id, customer_key=key, store_id=d.store_id,
                                  order_id=None, bucket=AVAILABLE, points=rules.review_bonus, reason=event.type):
        return  # this review was rewarded already (another event about it)
    await tx.members.touch(key, d.store_id, event.time)
    await tx.outbox.write([follow_up_event(service="loyalty", cause_id=event.id, event_type="points.available",
                                           key=key, time=event.time,
                                           data={"store_id": d.store_id, "customer_key": key,
                                                 "points": rules.review_bonus, "bucket": AVAILABLE})])


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
    "customer.erased": on_customer_erased,
    "product.upserted": on_product_upserted,
    "review.submitted": on_review_submitted,
}
# Types of the topics loyalty reads that move no points: skipped by the consumer loop on purpose.
IGNORED = frozenset({
    "order.placed",  # not paid yet: nothing is earned
    "order.shipped",  # shipping changes no points
    "customer.registered", "customer.updated",  # the email comes with the orders
    "product.deleted",  # a deleted product's past orders keep their award; its categories may stay
    "review.requested", "review.reminder_due", "review.help_requested", "review.published",
})
