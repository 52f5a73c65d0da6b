"""Reviews handlers: one per event type, registered in HANDLERS at the bottom; the other types of
the topics reviews reads are named in IGNORED.

Each handler gets the event parsed with ingest's model and `tx`, the unit of work of the consumer's
transaction (adapters/unit_of_work.py). Orders schedule, re-time, hold or cancel the order's one
review request (`tx.requests`, rules in domain/review_requests.py and domain/timing.py); the
catalogue keeps product names, images and categories (`tx.products`); customers.v1 merges and
erases. A replayed event is dropped by the loop's processed marker, and every rule is idempotent
besides, so nothing is asked twice.
"""
from __future__ import annotations

from services.reviews.adapters.unit_of_work import ReviewsUnitOfWork
from services.reviews.domain import review_requests as rr
from services.reviews.domain.products import ProductInfo
from services.reviews.domain.store_settings import keep_name_for, timing_for
from services.reviews.domain.timing import (COMPLETED, DELIVERED, SHIPPED, TimingConfig, delivered_due, dispatch_due,
                                            is_delivered_status)
from shared.events.catalog import ProductDeleted, ProductUpserted
from shared.events.customers import CustomerErased, CustomerLinked
from shared.events.envelope import Event, event_id
from shared.events.orders import OrderDeleted, OrderEvent, OrderRefunded, OrderShipped, OrderStatusChanged

# Statuses in which the goods are with the customer; leaving them for one of these others (not a
# refund or cancellation, which have their own events) holds an unsent request.
_DONE = frozenset({"completed"})
_ENDED = frozenset({"refunded", "cancelled", "failed", "trash"})


def request_id(store_id: str, order_id: int) -> str:
    """One request per order, whichever event creates it."""
    return event_id(store_id, order_id, "review.request")


async def _timing(tx: ReviewsUnitOfWork, store_id: str) -> TimingConfig:
    """The service's timing rules with the store's own settings over them."""
    return timing_for(tx.config, await tx.store_settings.get(store_id))


async def _schedule(event: Event[OrderEvent], tx: ReviewsUnitOfWork, basis: str, at) -> None:
    d = event.data
    config = await _timing(tx, d.store_id)
    req = await tx.requests.for_order(d.store_id, d.order_id)
    items = req.items if req else rr.items_from_lines(
        rr.OrderLine(line_id=li.line_id, product_id=li.product_id, name=li.name, quantity=li.quantity)
        for li in d.line_items)
    if not items:
        return
    if basis == DELIVERED:
        due = delivered_due(config, at)
    else:
        products = await tx.products.get_many(d.store_id, [i.product_id for i in items])
        categories = {c for p in products.values() for c in p.category_ids}
        due = dispatch_due(config, at, d.shipping_country, categories)
    if req is None:
        await tx.requests.add(rr.ReviewRequestRecord(
            request_id=request_id(d.store_id, d.order_id), cause_event_id=event.id, store_id=d.store_id,
            order_id=d.order_id, customer_key=d.customer.key, product_ids=[i.product_id for i in items],
            status=rr.PENDING, due_at=due, created_at=at, items=items, order_number=d.order_number,
            locale=d.customer.locale, email=d.customer.email, first_name=d.customer.first_name,
            shipping_country=d.shipping_country, basis=basis, basis_at=at))
        return
    changed = rr.retimed(req, basis, at, due)
    if changed != req:
        await tx.requests.save(changed)


async def _change(tx: ReviewsUnitOfWork, store_id: str, order_id: int, rule) -> None:
    req = await tx.requests.for_order(store_id, order_id)
    if req is not None:
        changed = rule(req)
        if changed != req:
            await tx.requests.save(changed)


async def on_order_completed(event: Event[OrderEvent], tx: ReviewsUnitOfWork) -> None:
    await _schedule(event, tx, COMPLETED, event.data.dates.completed or event.time)


async def on_order_shipped(event: Event[OrderShipped], tx: ReviewsUnitOfWork) -> None:
    # A later shipment (items shipped separately) pushes the ask to its arrival.
    await _schedule(event, tx, SHIPPED, event.data.tracking.shipped_at or event.time)


async def on_order_status_changed(event: Event[OrderStatusChanged], tx: ReviewsUnitOfWork) -> None:
    d = event.data
    to, frm = d.to_status.removeprefix("wc-"), (d.from_status or "").removeprefix("wc-")
    config = await _timing(tx, d.store_id)
    if is_delivered_status(config, to):
        await _schedule(event, tx, DELIVERED, event.time)
    elif to in _DONE:
        # Back in completed (order.completed may repeat its old id and be dropped): re-time a held ask.
        await _schedule(event, tx, COMPLETED, event.time)
    elif (frm in _DONE or is_delivered_status(config, frm)) and to not in _ENDED:
        await _change(tx, d.store_id, d.order_id, lambda r: rr.held(r, f"order moved back to {to}"))


async def on_order_refunded(event: Event[OrderRefunded], tx: ReviewsUnitOfWork) -> None:
    d = event.data
    if d.refund.is_full:
        await _change(tx, d.store_id, d.order_id, lambda r: rr.cancelled(r, "order refunded"))
    elif d.refund.line_items:
        lines = [rr.RefundedLine(line_id=li.line_id, product_id=li.product_id, quantity=li.quantity)
                 for li in d.refund.line_items]
        await _change(tx, d.store_id, d.order_id, lambda r: rr.after_refund(r, lines))


async def on_order_cancelled(event: Event[OrderEvent], tx: ReviewsUnitOfWork) -> None:
    await _change(tx, event.data.store_id, event.data.order_id, lambda r: rr.cancelled(r, "order cancelled"))


async def on_order_deleted(event: Event[OrderDeleted], tx: ReviewsUnitOfWork) -> None:
    await _change(tx, event.data.store_id, event.data.order_id, lambda r: rr.cancelled(r, "order deleted"))


async def on_product_upserted(event: Event[ProductUpserted], tx: ReviewsUnitOfWork) -> None:
    d = event.data
    if d.type == "variation":  # reviews are about the parent product
        return
    await tx.products.upsert(ProductInfo(store_id=d.store_id, product_id=d.product_id, name=d.name,
                                         image_url=d.image, permalink=d.permalink,
                                         category_ids=tuple(c.id for c in d.categories)))


async def on_product_deleted(event: Event[ProductDeleted], tx: ReviewsUnitOfWork) -> None:
    await tx.products.delete(event.data.store_id, event.data.product_id)


async def on_customer_linked(event: Event[CustomerLinked], tx: ReviewsUnitOfWork) -> None:
    d = event.data
    await tx.requests.relink(d.store_id, d.from_key, d.to_key)


async def on_customer_erased(event: Event[CustomerErased], tx: ReviewsUnitOfWork) -> None:
    d = event.data
    await tx.requests.erase_customer(d.store_id, d.key)
    keep = keep_name_for(tx.keep_display_name, await tx.store_settings.get(d.store_id))
    await tx.reviews.erase_customer(d.store_id, d.key, keep)


HANDLERS = {
    "order.completed": on_order_completed,
    "order.shipped": on_order_shipped,
    "order.status_changed": on_order_status_changed,
    "order.refunded": on_order_refunded,
    "order.cancelled": on_order_cancelled,
    "order.deleted": on_order_deleted,
    "product.upserted": on_product_upserted,
    "product.deleted": on_product_deleted,
    "customer.linked": on_customer_linked,
    "customer.erased": on_customer_erased,
}
# Types that change no review request: skipped by the consumer loop on purpose. (on-hold, a
# failure or a restore after completion also arrive as order.status_changed, handled above.)
IGNORED = frozenset({
    "order.placed", "order.paid", "order.on_hold", "order.failed", "order.restored",
    "customer.registered", "customer.updated",
})
