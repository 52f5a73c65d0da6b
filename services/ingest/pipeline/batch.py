"""Applying a batch of deliveries: `ingest_batch()` reads the batch's snapshots, derives each
delivery in arrival order against the state the previous one left (handlers.py → domain/), then
saves the new snapshots, the outbox rows and the delivery rows in one atomic write that checks no
snapshot moved meanwhile (adapters/delivery_batch.py; if one did, it derives again). `ingest()`
is a batch of one (reconciliation, replays).

The batch store is passed in — PgDeliveryBatch on a connection, or tests/support/fakes/ingest.py's in-memory
twin — so nothing here knows SQL.
"""
from __future__ import annotations

from collections import Counter
from typing import Protocol

from services.ingest.domain.delivery import (Delivery, DeliveryRow, InvalidPayload, Key, Result, Snapshot,
                                             SnapshotConflict, UnstorableValue)
from services.ingest.domain.derivation import Derivation, is_error_body
from services.ingest.handlers import HANDLERS
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
UNSTORABLE = "the payload holds a value that cannot be stored"


class BatchStore(Protocol):
    """adapters/delivery_batch.py's PgDeliveryBatch (see there for the guarantees)."""

    async def read(self, keys: set[Key]) -> dict[Key, Snapshot]: ...

    async def write(self, snapshots: dict[Key, tuple[int, dict]], rows: list[DeliveryRow]) -> list[int]: ...


async def ingest_batch(store: BatchStore, batch: list[Delivery], metrics: IngestMetrics
                       ) -> list[Result | InvalidPayload]:
    """Apply deliveries in order, atomically; per delivery its Result or InvalidPayload.

    A value storage refuses (UnstorableValue, e.g. a NUL inside a string) fails the whole write;
    the batch is then retried one delivery at a time so only the culprit is refused (for a batch
    of one, UnstorableValue is raised)."""
    try:
        return await _apply(store, batch, metrics)
    except UnstorableValue:
        if len(batch) == 1:
            raise
    results: list[Result | InvalidPayload] = []
    for delivery in batch:
        try:
            results += await _apply(store, [delivery], metrics)
        except UnstorableValue:
            results.append(InvalidPayload(UNSTORABLE))
    return results


async def ingest(store: BatchStore, delivery: Delivery, metrics: IngestMetrics) -> Result:
    """One delivery on its own (reconciliation, replays); raises InvalidPayload, UnstorableValue."""
    result = (await ingest_batch(store, [delivery], metrics))[0]
    if isinstance(result, InvalidPayload):
        raise result
    return result


def _precheck(delivery: Delivery) -> str | None:
    """The outcome of a delivery that derives nothing, or None when it goes to its handler."""
    if delivery.topic not in HANDLERS:
        return "ignored_topic"
    if is_error_body(delivery.payload):
        return "error_body"
    if delivery.resource_id is None:
        return "invalid_resource"
    return None


async def _apply(store: BatchStore, batch: list[Delivery], metrics: IngestMetrics) -> list[Result | InvalidPayload]:
    outcomes = [_precheck(d) for d in batch]
    keys = {d.key for d, o in zip(batch, outcomes) if o is None}
    unseen = _assumed_unseen(batch, outcomes)
    for attempt in range(1, _CONFLICT_ATTEMPTS + 1):
        # First attempt: a resource whose first delivery here is *.created is taken as never seen,
        # without reading it (a new order costs no read round trip). If it was known after all
        # (reconciliation got there first), the write's revision check refuses the batch and the
        # next attempt reads everything.
        read = await store.read(keys - unseen if attempt == 1 else keys)
        state = {k: s.state for k, s in read.items()}
        changed: dict[Key, dict] = {}
        derived = [None if outcome else _derive(d, state, changed) for d, outcome in zip(batch, outcomes)]
        rows = _rows(batch, outcomes, derived)
        snapshots = {k: (read[k].rev if k in read else 0, v) for k, v in changed.items()}
        try:
            inserted = await store.write(snapshots, rows)
            break
        except SnapshotConflict:  # another instance moved one of these resources: derive again
            metrics.conflicts.inc()
            if attempt == _CONFLICT_ATTEMPTS:
                raise
    results = _results(rows, derived, inserted)
    _count(batch, results, derived, metrics)
    return results


def _assumed_unseen(batch: list[Delivery], outcomes: list[str | None]) -> set[Key]:
    first: dict[Key, str] = {}
    for delivery, outcome in zip(batch, outcomes):
        if outcome is None:
            first.setdefault(delivery.key, delivery.topic)
    return {key for key, topic in first.items() if topic in _FIRST_SIGHT}


def _derive(delivery: Delivery, state: dict[Key, dict], changed: dict[Key, dict]) -> Derivation | InvalidPayload:
    try:
        derivation = HANDLERS[delivery.topic](delivery.store.context, state.get(delivery.key), delivery)
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


def _results(rows: list[DeliveryRow], derived: list, inserted: list[int]) -> list[Result | InvalidPayload]:
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
