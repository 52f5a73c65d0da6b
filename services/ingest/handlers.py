"""Ingest's handlers: which derivation each WooCommerce topic goes through, registered in
HANDLERS at the bottom.

Ingest is not a Kafka consumer, so these are not the `on_<type>(event, tx)` handlers of the other
services: ingest's "events" are WooCommerce deliveries, and its handler for a topic is the pure
domain derivation of the resource — `(store, last snapshot, delivery) → Derivation` (the events,
the new snapshot, the outcome). One per resource (orders, customers, products), each registered
for every topic of its resource. The delivery pipeline (pipeline/batch.py) looks a delivery's
topic up here; a topic with no handler (coupon.*, action.*) is acknowledged and recorded with the
outcome "ignored_topic", and derives nothing.
"""
from __future__ import annotations

from collections.abc import Callable

from services.ingest.domain.customers import derive_customer_events
from services.ingest.domain.delivery import Delivery
from services.ingest.domain.derivation import Derivation, StoreContext
from services.ingest.domain.orders import derive_order_events
from services.ingest.domain.products import derive_product_events

Handler = Callable[[StoreContext, "dict | None", Delivery], Derivation]


def on_order(store: StoreContext, previous: dict | None, delivery: Delivery) -> Derivation:
    # A webhook's refunds come without their lines: held until refund_details.py fetched them, when
    # the store's REST API can be asked (reconcile fetched them itself already).
    hold = delivery.origin == "webhook" and delivery.store.has_rest_access
    return derive_order_events(store, previous, delivery.payload, delivery.topic, delivery.refund_details,
                               permanent=delivery.permanent, hold_refunds=hold)


def on_customer(store: StoreContext, previous: dict | None, delivery: Delivery) -> Derivation:
    return derive_customer_events(store, previous, delivery.payload, delivery.topic)


def on_product(store: StoreContext, previous: dict | None, delivery: Delivery) -> Derivation:
    return derive_product_events(store, previous, delivery.payload, delivery.topic)


HANDLERS: dict[str, Handler] = {
    "order.created": on_order,
    "order.updated": on_order,
    "order.deleted": on_order,
    "order.restored": on_order,
    "customer.created": on_customer,
    "customer.updated": on_customer,
    "customer.deleted": on_customer,
    "product.created": on_product,
    "product.updated": on_product,
    "product.deleted": on_product,
    "product.restored": on_product,
    "product.published": on_product,
}
