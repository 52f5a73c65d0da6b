"""Profile handlers: one per event type the profile worker acts on, registered in HANDLERS at the
bottom; IGNORED names the types it leaves alone on purpose. The faust agents (app.py) call them
with a ProfilesUnitOfWork over their tables, tests with an in-memory one — every rule is tested
without a broker.

A profile is a pure function of the customer's order events (domain/profile.py): each handler
stores the new state and queues profile.updated (or a tombstone on erasure) on `tx.outbox`; the
agent publishes what was queued after the table write.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from services.profiles.domain.profile import ProductFacts, apply_order, empty, erased, summarize
from services.profiles.domain.publication import profile_event
from shared.events.catalog import ProductDeleted, ProductUpserted
from shared.events.customers import CustomerErased
from shared.events.envelope import Event
from shared.events.orders import OrderDeleted, OrderEvent, OrderRefunded, OrderShipped, OrderStatusChanged

if TYPE_CHECKING:
    from services.profiles.adapters.unit_of_work import ProfilesUnitOfWork


async def _order(event: Event, tx: ProfilesUnitOfWork) -> None:
    data = event.data
    key = data.customer.key
    profile = tx.profiles.get(key) or empty(data.store_id, key)
    new = apply_order(profile, event.id, event.type, event.time, data.model_dump(mode="json", by_alias=True))
    if new is not None:  # None: seen before, or older than what is known of that order
        tx.profiles.put(key, new)
        tx.outbox.write(profile_event(event, summarize(new, tx.catalogue.facts,
                                                       thresholds=tx.thresholds(data.store_id))))


async def on_order_placed(event: Event[OrderEvent], tx: ProfilesUnitOfWork) -> None:
    await _order(event, tx)


async def on_order_paid(event: Event[OrderEvent], tx: ProfilesUnitOfWork) -> None:
    await _order(event, tx)


async def on_order_on_hold(event: Event[OrderEvent], tx: ProfilesUnitOfWork) -> None:
    await _order(event, tx)


async def on_order_failed(event: Event[OrderEvent], tx: ProfilesUnitOfWork) -> None:
    await _order(event, tx)


async def on_order_shipped(event: Event[OrderShipped], tx: ProfilesUnitOfWork) -> None:
    await _order(event, tx)


async def on_order_completed(event: Event[OrderEvent], tx: ProfilesUnitOfWork) -> None:
    await _order(event, tx)


async def on_order_cancelled(event: Event[OrderEvent], tx: ProfilesUnitOfWork) -> None:
    await _order(event, tx)


async def on_order_refunded(event: Event[OrderRefunded], tx: ProfilesUnitOfWork) -> None:
    await _order(event, tx)


async def on_order_status_changed(event: Event[OrderStatusChanged], tx: ProfilesUnitOfWork) -> None:
    await _order(event, tx)


async def on_order_restored(event: Event[OrderEvent], tx: ProfilesUnitOfWork) -> None:
    await _order(event, tx)


async def on_order_deleted(event: Event[OrderDeleted], tx: ProfilesUnitOfWork) -> None:
    await _order(event, tx)  # the order stops counting; its known facts stay for a restore


async def on_customer_erased(event: Event[CustomerErased], tx: ProfilesUnitOfWork) -> None:
    tx.profiles.put(event.data.key, erased(event.data.store_id, event.data.key, event.time))
    tx.outbox.tombstone(event.data.key)


async def on_product_upserted(event: Event[ProductUpserted], tx: ProfilesUnitOfWork) -> None:
    d = event.data
    tx.catalogue.put(d.store_id, d.product_id, ProductFacts(
        categories=tuple(t.name for t in d.categories), usage_period_days=d.usage_period_days))


async def on_product_deleted(event: Event[ProductDeleted], tx: ProfilesUnitOfWork) -> None:
    # Kept on purpose: a customer who bought a product later trashed still bought into its categories.
    return None


HANDLERS = {
    "order.placed": on_order_placed,
    "order.paid": on_order_paid,
    "order.on_hold": on_order_on_hold,
    "order.failed": on_order_failed,
    "order.shipped": on_order_shipped,
    "order.completed": on_order_completed,
    "order.cancelled": on_order_cancelled,
    "order.refunded": on_order_refunded,
    "order.status_changed": on_order_status_changed,
    "order.restored": on_order_restored,
    "order.deleted": on_order_deleted,
    "customer.erased": on_customer_erased,
    "product.upserted": on_product_upserted,
    "product.deleted": on_product_deleted,
}
# Nothing a profile holds: sign-ups and edits carry no orders; after a guest → account link the
# account's profile grows from its own orders (the guest's stay under the guest's key).
IGNORED = frozenset({"customer.registered", "customer.updated", "customer.linked"})
