"""Ingest's handlers: one per WooCommerce topic, registered in HANDLERS at the bottom.

Every delivery — from a webhook or from reconciliation — goes through `ingest()`: one transaction
records the delivery, diffs it against the resource's last snapshot (pure domain), saves the new
snapshot and writes the derived events to the outbox. WooCommerce gets its 200 only after that
transaction commits, so a delivery is never lost even while Kafka is down.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import asyncpg

from services.ingest.adapters.journal import PgJournal
from services.ingest.adapters.stores import Store
from services.ingest.domain.customers import derive_customer_events
from services.ingest.domain.lifecycle import Derivation, StoreContext, derive_order_events
from services.ingest.domain.products import derive_product_events
from services.ingest.metrics import IngestMetrics
from shared.logging import get_logger

log = get_logger(__name__)

class InvalidPayload(Exception):
    """A signed delivery whose body is not a usable resource; the transaction rolls back."""


Derive = Callable[[StoreContext, dict | None, dict, str], Derivation]


@dataclass(frozen=True)
class Delivery:
    store: Store
    topic: str
    payload: dict
    body: bytes
    delivery_id: str | None = None
    webhook_id: str | None = None
    origin: str = "webhook"  # or "reconcile"
    # Refund id → refund resource (GET /orders/<id>/refunds/<rid>), when the caller fetched them.
    refund_details: dict | None = None

    @property
    def resource(self) -> str:
        return self.topic.split(".", 1)[0]

    @property
    def resource_id(self) -> str | None:
        rid = self.payload.get("id")
        return str(rid) if isinstance(rid, (int, str)) and str(rid).strip().isdigit() else None


@dataclass(frozen=True)
class Result:
    outcome: str
    events: int
    delivery_row: int


async def _apply(derive: Derive, delivery: Delivery, journal: PgJournal) -> Derivation | None:
    rid = delivery.resource_id
    if rid is None:
        return None
    store = delivery.store
    await journal.lock_resource(store.store_id, delivery.resource, rid)
    previous = await journal.snapshot(store.store_id, delivery.resource, rid)
    ctx = StoreContext(store_id=store.store_id, timezone=store.timezone, locale=store.locale)
    derivation = derive(ctx, previous, delivery.payload, delivery.topic)
    if derivation.snapshot is not None:
        await journal.save_snapshot(store.store_id, delivery.resource, rid, derivation.snapshot)
    return derivation


async def on_order(delivery: Delivery, journal: PgJournal) -> Derivation | None:
    return await _apply(partial(derive_order_events, refund_details=delivery.refund_details), delivery, journal)


async def on_customer(delivery: Delivery, journal: PgJournal) -> Derivation | None:
    return await _apply(derive_customer_events, delivery, journal)


async def on_product(delivery: Delivery, journal: PgJournal) -> Derivation | None:
    return await _apply(derive_product_events, delivery, journal)


def _is_error_body(payload: dict) -> bool:
    """WooCommerce sends a WP error object when the webhook owner can't read the resource."""
    return "code" in payload and isinstance(payload.get("data"), dict) and "status" in payload["data"]


async def ingest(pool: asyncpg.Pool, delivery: Delivery, metrics: IngestMetrics) -> Result:
    handler = HANDLERS.get(delivery.topic)
    async with pool.acquire() as conn:
        async with conn.transaction():
            journal = PgJournal(conn)
            events = 0
            if handler is None:
                outcome = "ignored_topic"
            elif _is_error_body(delivery.payload):
                outcome = "error_body"
            else:
                try:
                    derivation = await handler(delivery, journal)
                except (ValueError, TypeError, KeyError, AttributeError, ArithmeticError) as exc:
                    metrics.deliveries.labels(delivery.topic, "invalid_payload").inc()
                    raise InvalidPayload(f"{type(exc).__name__}: {exc}"[:300]) from exc
                if derivation is None:
                    outcome = "invalid_resource"
                else:
                    outcome = derivation.outcome
                    events = await journal.publish(derivation.events)
                    for out in derivation.events:
                        metrics.events_produced.labels(out.envelope.type).inc()
            row = await journal.record_delivery(
                store_id=delivery.store.store_id, topic=delivery.topic, resource=delivery.resource,
                resource_id=delivery.resource_id, delivery_id=delivery.delivery_id,
                webhook_id=delivery.webhook_id, origin=delivery.origin, body=delivery.body,
                outcome=outcome, events=events)
    metrics.deliveries.labels(delivery.topic if handler else "unknown", outcome).inc()
    if outcome in ("ignored_topic", "error_body", "invalid_resource"):
        # The delivery id and topic only: the body may hold personal data.
        log.warning("delivery_not_applied", outcome=outcome, topic=delivery.topic,
                    store_id=delivery.store.store_id, delivery_id=delivery.delivery_id)
    return Result(outcome=outcome, events=events, delivery_row=row)


HANDLERS = {
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
