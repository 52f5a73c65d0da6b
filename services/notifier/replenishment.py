"""Replenishment reminders, a use case of the handlers: "your coffee will run out about now".

    await remind_from_profile(event, tx)   # profile.updated: one reminder per replenishment_due entry
    await on_purchase(event, tx)           # a paid order: cancel what it re-ordered, time from it

A reminder is due when the product runs out: the profile's replenishment_due, or — for a product
the store gives a usage period (catalogue usage_period_days) — the purchase time plus the period ×
the quantity. One pending reminder per customer and product: its id is the customer's, the
product's and the due day's (so the placed and the paid event of one order, or a profile saying
the same day, are one reminder); a reminder for a later due day supersedes the pending one, and a
paid order containing the product cancels the pending reminder first ("re-ordered"). At send time
gating drops it when the product can no longer be bought (recommendations.recheck_products).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from services.notifier.domain.flows import FLOWS
from services.notifier.domain.messages import render_draft
from services.notifier.domain.product_messages import products_context
from services.notifier.recording import record_flow
from shared.events.envelope import Event, derived_event_id
from shared.events.orders import OrderEvent
from shared.events.profiles import ProfileUpdated
from shared.logging import get_logger

if TYPE_CHECKING:
    from services.notifier.adapters.unit_of_work import NotifierUnitOfWork

log = get_logger(__name__)
REPLENISHMENT = "replenishment"
REORDERED, SUPERSEDED = "re-ordered", "superseded by a later due date"


def reminder_id(customer_key: str, product_id: int, due: datetime) -> str:
    return derived_event_id(f"{customer_key}:replenish:{product_id}", f"email:{REPLENISHMENT}:{due.date().isoformat()}")


async def schedule_reminder(tx: NotifierUnitOfWork, cause: Event, *, store_id: str, customer_key: str,
                            product_id: int, due: datetime) -> str | None:
    """Record the reminder for `product_id` due at `due`; its id, or None when there is none to send."""
    product = (await tx.catalogue.get_many(store_id, [product_id])).get(product_id)
    customer = await tx.customers.get(customer_key)
    if product is None or not product.buyable or customer is None or not customer.email:
        return None
    message_id = reminder_id(customer_key, product_id, due)
    if await tx.message_products.of(message_id) is not None:
        return message_id  # known already (a redelivery, the same order's other event, the same day)

    def draft(store):
        return render_draft(REPLENISHMENT, customer.email, customer_locale=customer.locale, store_locale=store.locale,
                            context=lambda locale: products_context([product], first_name=customer.first_name,
                                                                    number=None, store=store, locale=locale))

    recorded = await record_flow(tx, FLOWS[REPLENISHMENT], cause=cause, store_id=store_id, customer_key=customer_key,
                                 message_id=message_id, draft=draft, base_time=due)
    if recorded is None:
        return None
    for older in await tx.message_products.pending_naming(customer_key, REPLENISHMENT, [product_id]):
        await tx.messages.mark_cancelled(older, SUPERSEDED)
    await tx.message_products.attach(recorded, store_id=store_id, customer_key=customer_key, flow=REPLENISHMENT,
                                     product_ids=[product_id])
    return recorded


async def remind_from_profile(event: Event[ProfileUpdated], tx: NotifierUnitOfWork) -> None:
    p = event.data
    for product, due in sorted(p.replenishment_due.items()):
        if product.isdigit():
            await schedule_reminder(tx, event, store_id=p.store_id, customer_key=p.customer_key,
                                    product_id=int(product), due=due)


async def on_purchase(event: Event[OrderEvent], tx: NotifierUnitOfWork) -> None:
    """A paid order: its products' pending reminders are cancelled (re-ordered in time), then new
    ones timed from this purchase for products with a usage period."""
    order = event.data
    key, bought_at = order.customer.key, order.dates.paid or order.dates.created or event.time
    quantities: dict[int, int] = {}
    for li in order.line_items:
        quantities[li.product_id] = quantities.get(li.product_id, 0) + li.quantity
    catalogue = await tx.catalogue.get_many(order.store_id, list(quantities))
    dues = {pid: bought_at + timedelta(days=catalogue[pid].usage_period_days * qty)
            for pid, qty in quantities.items() if pid in catalogue and catalogue[pid].usage_period_days}
    own = {reminder_id(key, pid, due) for pid, due in dues.items()}  # this order's own: not a re-order
    for message_id in await tx.message_products.pending_naming(key, REPLENISHMENT, list(quantities)):
        if message_id not in own:
            await tx.messages.mark_cancelled(message_id, REORDERED)
            log.info("replenishment_cancelled", message_id=message_id, order_id=order.order_id, reason=REORDERED)
    for pid, due in dues.items():
        await schedule_reminder(tx, event, store_id=order.store_id, customer_key=key, product_id=pid, due=due)
