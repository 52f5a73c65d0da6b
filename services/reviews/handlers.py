"""Reviews handlers: one per order event type, registered in HANDLERS at the bottom; the other
orders.v1 types are named in IGNORED.

Each handler gets the event parsed with ingest's model and `tx`, the unit of work of the consumer's
transaction (adapters/unit_of_work.py): review requests go to `tx.requests`, keyed by the causing
event's id (and one per order) so a replay asks nothing twice.
"""
from __future__ import annotations

from services.reviews.adapters.unit_of_work import ReviewsUnitOfWork
from services.reviews.domain.timing import due_at, reviewable_products
from shared.events.envelope import Event, derived_event_id
from shared.events.orders import OrderEvent, OrderRefunded


async def on_order_completed(event: Event[OrderEvent], tx: ReviewsUnitOfWork) -> None:
    d = event.data
    products = reviewable_products(li.product_id for li in d.line_items)
    if not products:
        return
    await tx.requests.add(
        request_id=derived_event_id(event.id, "review.request"), cause_event_id=event.id,
        store_id=d.store_id, order_id=d.order_id, customer_key=d.customer.key,
        product_ids=products, due_at=due_at(event.time, tx.config.request_delay_days))


async def on_order_refunded(event: Event[OrderRefunded], tx: ReviewsUnitOfWork) -> None:
    # Don't ask for a review of an order the customer sent back.
    if event.data.refund.is_full:
        await tx.requests.cancel_for_order(event.data.store_id, event.data.order_id)


HANDLERS = {
    "order.completed": on_order_completed,
    "order.refunded": on_order_refunded,
}
# orders.v1 types that change no review request (today): skipped by the consumer loop on purpose.
IGNORED = frozenset({
    "order.placed", "order.paid", "order.status_changed", "order.on_hold", "order.shipped",
    "order.cancelled", "order.failed", "order.deleted", "order.restored",
})
