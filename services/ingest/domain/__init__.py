"""Ingest's pure core: WooCommerce "current state" payloads → lifecycle events (no I/O).

    derive_order_events(store, previous, payload, topic, refund_details=None, *, now=None)
    derive_customer_events(store, previous, payload, topic, *, now=None)
    derive_product_events(store, previous, payload, topic, *, now=None)

each return a Derivation(events, snapshot, outcome): the events to write to the outbox in order,
the snapshot to store for (store, resource, id) — None means keep the old one — and the outcome.
Modules: orders, customers, products (one derivation each); order_payload, refunds, tracking
(reading order payloads); freshness (stale / duplicate / newer against the snapshot); money,
times, text (with their ranges); bounds (what one delivery's events may be and hold: sizes,
64-bit integers); derivation (StoreContext, Derivation, outcomes, event building); stores (a
registered store) and delivery (what ingest is given, its result or refusal, the records it stores).
"""
from services.ingest.domain.customers import derive_customer_events
from services.ingest.domain.derivation import (APPLIED, DUPLICATE, ERROR_BODY, IGNORED, PARKED, STALE,
                                               Derivation, StoreContext)
from services.ingest.domain.orders import derive_order_events
from services.ingest.domain.products import derive_product_events

__all__ = ["APPLIED", "DUPLICATE", "ERROR_BODY", "IGNORED", "PARKED", "STALE", "Derivation", "StoreContext",
           "derive_customer_events", "derive_order_events", "derive_product_events"]
