"""Ingest's handlers: one per WooCommerce topic, registered in HANDLERS at the bottom. A handler
is the pure domain derivation for its resource: (store, last snapshot, payload, topic) → events,
new snapshot, outcome.

Every delivery — from a webhook or from reconciliation — goes through `ingest_batch()`: it reads
the batch's snapshots, derives each delivery in arrival order against the state the previous one
left, then saves the new snapshots, the outbox rows and the delivery rows in one atomic statement
that checks no snapshot moved meanwhile (adapters/journal.py; if one did, it derives again). WooCommerce gets its 200 only after that transaction commits, so a delivery is
never lost even while Kafka is down. Concurrent webhook deliveries share a batch
(adapters/group_commit.py); reconciliation and replays send batches of one through `ingest()`.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import asyncpg

from services.ingest.adapters.journal import DeliveryRow, Key, PgJournal, SnapshotConflict
from services.ingest.adapters.stores import Store
from services.ingest.domain.customers import derive_customer_events
from services.ingest.domain.derivation import Derivation, StoreContext
from services.ingest.domain.lifecycle import derive_order_events
from services.ingest.domain.products import derive_product_events
from services.ingest.metrics import IngestMetrics
from shared.logging import get_logger

log = get_logger(__name__)

# Payload shapes a derivation rejects (a price that isn't a number, a list where an object goes…).
_PAYLOAD_ERRORS = (ValueError, TypeError, KeyError, AttributeError, ArithmeticError)
NOT_APPLIED = frozenset({"ignored_topic", "error_body", "invalid_resource"})
# Attempts when another instance keeps changing a batch's resources between read and write.
_CONFLICT_ATTEMPTS = 10
# Topics about a resource the store just made: ingest has (almost) never seen it.
_FIRST_SIGHT = frozenset({"order.created", "customer.created", "product.created"})


class InvalidPayload(Exception):
    """A signed delivery whose body is not a usable resource; nothing of it is stored."""


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

    @property
    def key(self) -> Key:
        return (self.store.store_id, self.resource, self.resource_id or "")


@dataclass(frozen=True)
class Result:
    outcome: str
    events: int


def on_order(delivery: Delivery) -> Derive:
    return partial(derive_order_events, refund_details=delivery.refund_details)


def on_customer(delivery: Delivery) -> Derive:
    return derive_customer_events


def on_product(delivery: Delivery) -> Derive:
    return derive_product_events


def _is_error_body(payload: dict) -> bool:
    """WooCommerce sends a WP error object when the webhook owner can't read the resource."""
    return "code" in payload and isinstance(payload.get("data"), dict) and "status" in payload["data"]


def _precheck(delivery: Delivery) -> str | None:
    """The outcome of a delivery that derives nothing, or None when it goes to its handler."""
    if delivery.topic not in HANDLERS:
        return "ignored_topic"
    if _is_error_body(delivery.payload):
        return "error_body"
    if delivery.resource_id is None:
        return "invalid_resource"
    return None


async def ingest_batch(conn: asyncpg.Connection, batch: list[Delivery], metrics: IngestMetrics
                       ) -> list[Result | InvalidPayload]:
    """Apply deliveries in order, atomically, on `conn` (outside any transaction); per delivery its
    Result or InvalidPayload.

    A value PostgreSQL refuses (asyncpg.DataError, e.g. a NUL inside a string) fails the whole
    statement; the batch is then retried one delivery at a time so only the culprit is refused
    (for a batch of one, the DataError is raised)."""
    try:
        return await _apply_batch(conn, batch, metrics)
    except asyncpg.DataError:
        if len(batch) == 1:
            raise
    results: list[Result | InvalidPayload] = []
    for delivery in batch:
        try:
            results += await _apply_batch(conn, [delivery], metrics)
        except asyncpg.DataError:
            results.append(InvalidPayload("the payload holds a value that cannot be stored"))
    return results


async def ingest(pool: asyncpg.Pool, delivery: Delivery, metrics: IngestMetrics) -> Result:
    """One delivery on its own (reconciliation, replays); raises InvalidPayload."""
    async with pool.acquire() as conn:
        result = (await ingest_batch(conn, [delivery], metrics))[0]
    if isinstance(result, InvalidPayload):
        raise result
    return result


async def _apply_batch(conn: asyncpg.Connection, batch: list[Delivery], metrics: IngestMetrics
                       ) -> list[Result | InvalidPayload]:
    outcomes = [_precheck(d) for d in batch]
    keys = {d.key for d, o in zip(batch, outcomes) if o is None}
    unseen = _assumed_unseen(batch, outcomes)
    journal = PgJournal(conn)
    for attempt in range(1, _CONFLICT_ATTEMPTS + 1):
        # First attempt: a resource whose first delivery here is *.created is taken as never seen,
        # without reading it (a new order costs no read round trip). If it was known after all
        # (reconciliation got there first), the write's revision check refuses the batch and the
        # next attempt reads everything.
        read = await journal.read(keys - unseen if attempt == 1 else keys)
        state = {k: s.state for k, s in read.items()}
        changed: dict[Key, dict] = {}
        derived = [None if outcome else _derive(d, state, changed) for d, outcome in zip(batch, outcomes)]
        rows = _rows(batch, outcomes, derived)
        snapshots = {k: (read[k].rev if k in read else 0, v) for k, v in changed.items()}
        try:
            inserted = await journal.write(snapshots, rows)
            break
        except SnapshotConflict:  # another instance moved one of these resources: derive again
            metrics.conflicts.inc()
            if attempt == _CONFLICT_ATTEMPTS:
                raise
    results = _results(batch, rows, derived, inserted)
    _count(batch, results, derived, metrics)
    return results


def _assumed_unseen(batch: list[Delivery], outcomes: list[str | None]) -> set[Key]:
    first: dict[Key, str] = {}
    for delivery, outcome in zip(batch, outcomes):
        if outcome is None:
            first.setdefault(delivery.key, delivery.topic)
    return {key for key, topic in first.items() if topic in _FIRST_SIGHT}


def _derive(delivery: Delivery, state: dict[Key, dict], changed: dict[Key, dict]) -> Derivation | InvalidPayload:
    store = delivery.store
    ctx = StoreContext(store_id=store.store_id, timezone=store.timezone, locale=store.locale)
    derive = HANDLERS[delivery.topic](delivery)
    try:
        derivation = derive(ctx, state.get(delivery.key), delivery.payload, delivery.topic)
    except _PAYLOAD_ERRORS as exc:
        return InvalidPayload(f"{type(exc).__name__}: {exc}"[:300])
    if derivation.snapshot is not None:  # the next delivery of this resource in the batch diffs against it
        state[delivery.key] = changed[delivery.key] = derivation.snapshot
    return derivation


def _rows(batch: list[Delivery], outcomes: list[str | None], derived: list) -> list[DeliveryRow]:
    """The delivery rows to record (a refused delivery has none: as if it never came)."""
    rows = []
    for delivery, outcome, d in zip(batch, outcomes, derived):
        if isinstance(d, InvalidPayload):
            continue
        rows.append(DeliveryRow(store_id=delivery.store.store_id, topic=delivery.topic, resource=delivery.resource,
                                resource_id=delivery.resource_id, delivery_id=delivery.delivery_id,
                                webhook_id=delivery.webhook_id, origin=delivery.origin, body=delivery.body,
                                outcome=d.outcome if d is not None else outcome,
                                events=d.events if d is not None else []))
    return rows


def _results(batch: list[Delivery], rows: list[DeliveryRow], derived: list, inserted: list[int]
             ) -> list[Result | InvalidPayload]:
    it = iter(zip(rows, inserted))
    out: list[Result | InvalidPayload] = []
    for d in derived:
        if isinstance(d, InvalidPayload):
            out.append(d)
        else:
            row, n = next(it)
            out.append(Result(outcome=row.outcome, events=n))
    return out


def _count(batch: list[Delivery], results: list, derived: list, metrics: IngestMetrics) -> None:
    """Metrics and log lines once the batch is committed."""
    by_type: Counter[str] = Counter()
    for delivery, result, d in zip(batch, results, derived):
        topic = delivery.topic if delivery.topic in HANDLERS else "unknown"
        if isinstance(result, InvalidPayload):
            metrics.deliveries.labels(topic, "invalid_payload").inc()
            continue
        metrics.deliveries.labels(topic, result.outcome).inc()
        if isinstance(d, Derivation):
            by_type.update(e.envelope.type for e in d.events)
        if result.outcome in NOT_APPLIED:
            # The delivery id and topic only: the body may hold personal data.
            log.warning("delivery_not_applied", outcome=result.outcome, topic=delivery.topic,
                        store_id=delivery.store.store_id, delivery_id=delivery.delivery_id)
    for event_type, n in by_type.items():
        metrics.events_produced.labels(event_type).inc(n)


HANDLERS: dict[str, Callable[[Delivery], Derive]] = {
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
