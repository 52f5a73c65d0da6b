"""Applying a batch of deliveries: `ingest_batch()` reads the batch's snapshots, prepares each
delivery in arrival order against the state the previous one left — derives it (handlers.py →
domain/), checks and serializes its events (domain/bounds.py) and its snapshot — then saves the
new snapshots, the outbox rows and the delivery rows in one atomic write that checks no snapshot
moved meanwhile (adapters/delivery_batch.py; if one did, it derives again). `ingest()` is a batch
of one (reconciliation, replays).

Failure isolation: everything that depends on one delivery's content happens for that delivery
alone, before the write, and whatever it raises is that delivery's own answer (`Refused`): a 4xx
for its data, a 500 for a bug of ours met on it — never its batch-mates'. The write then gets bytes
and text only, so what can still fail it is storage (every delivery of the batch hears it: 503) or
a value PostgreSQL refuses (UnstorableValue: the batch is written again one delivery at a time, so
only the culprit is refused). Every refusal is logged with its reason and the delivery's id, topic
and store — never the body's content.

The batch store is passed in — PgDeliveryBatch on a connection, or tests/support/fakes/ingest.py's in-memory
twin — so nothing here knows SQL.
"""
from __future__ import annotations

import traceback
from collections import Counter
from dataclasses import dataclass, replace
from typing import Protocol

import orjson

from services.ingest.domain.bounds import EventLimits, check_payload_size, encode_events
from services.ingest.domain.delivery import (Delivery, DeliveryFailed, DeliveryRow, InvalidPayload, Key, Refused,
                                             Result, Snapshot, SnapshotConflict, UnstorableValue)
from services.ingest.domain.derivation import Derivation, is_error_body
from services.ingest.domain.text import may_hold_control_characters, without_control_characters
from services.ingest.handlers import HANDLERS
from services.ingest.metrics import IngestMetrics
from shared.logging import get_logger

log = get_logger(__name__)

# Payload shapes a derivation rejects (a price that isn't a number, a list where an object goes…).
_PAYLOAD_ERRORS = (ValueError, TypeError, LookupError, AttributeError, ArithmeticError, RecursionError)
NOT_APPLIED = frozenset({"ignored_topic", "error_body", "invalid_resource"})
# Attempts when another instance keeps changing a batch's resources between read and write.
_CONFLICT_ATTEMPTS = 10
# Topics about a resource the store just made: ingest has (almost) never seen it.
_FIRST_SIGHT = frozenset({"order.created", "customer.created", "product.created"})
UNSTORABLE = "the payload holds a value that cannot be stored"
_LIMITS = EventLimits()


class BatchStore(Protocol):
    """adapters/delivery_batch.py's PgDeliveryBatch (see there for the guarantees)."""

    async def read(self, keys: set[Key]) -> dict[Key, Snapshot]: ...

    async def write(self, snapshots: dict[Key, tuple[int, str]], rows: list[DeliveryRow]) -> list[int]: ...


@dataclass(frozen=True)
class _Prepared:
    derivation: Derivation
    payloads: list[bytes]  # the events' envelopes, serialized and checked


async def ingest_batch(store: BatchStore, batch: list[Delivery], metrics: IngestMetrics,
                       limits: EventLimits = _LIMITS) -> list[Result | Refused]:
    """Apply deliveries in order, atomically; per delivery its Result or why it was refused.
    Raises only what storage raised (every delivery of the batch is then unanswered)."""
    try:
        return await _apply(store, batch, metrics, limits)
    except UnstorableValue:
        if len(batch) == 1:
            return [_unstorable(batch[0], metrics)]
    results: list[Result | Refused] = []
    for delivery in batch:
        try:
            results += await _apply(store, [delivery], metrics, limits)
        except UnstorableValue:
            results.append(_unstorable(delivery, metrics))
    return results


async def ingest(store: BatchStore, delivery: Delivery, metrics: IngestMetrics,
                 limits: EventLimits = _LIMITS) -> Result:
    """One delivery on its own (reconciliation, replays); raises its Refused (InvalidPayload, …)."""
    result = (await ingest_batch(store, [delivery], metrics, limits))[0]
    if isinstance(result, Refused):
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


async def _apply(store: BatchStore, batch: list[Delivery], metrics: IngestMetrics,
                 limits: EventLimits) -> list[Result | Refused]:
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
        changed: dict[Key, str] = {}
        prepared = [None if outcome else _prepare(d, state, changed, limits) for d, outcome in zip(batch, outcomes)]
        rows = _rows(batch, outcomes, prepared)
        snapshots = {k: (read[k].rev if k in read else 0, v) for k, v in changed.items()}
        try:
            inserted = await store.write(snapshots, rows)
            break
        except SnapshotConflict:  # another instance moved one of these resources: derive again
            metrics.conflicts.inc()
            if attempt == _CONFLICT_ATTEMPTS:
                raise
    results = _results(rows, prepared, inserted)
    _count(batch, results, prepared, metrics)
    return results


def _assumed_unseen(batch: list[Delivery], outcomes: list[str | None]) -> set[Key]:
    first: dict[Key, str] = {}
    for delivery, outcome in zip(batch, outcomes):
        if outcome is None:
            first.setdefault(delivery.key, delivery.topic)
    return {key for key, topic in first.items() if topic in _FIRST_SIGHT}


def _prepare(delivery: Delivery, state: dict[Key, dict], changed: dict[Key, str],
             limits: EventLimits) -> _Prepared | Refused:
    """One delivery up to the bytes the write takes; whatever goes wrong is its own answer."""
    try:
        check_payload_size(delivery.payload, limits)
        if delivery.refund_details or may_hold_control_characters(delivery.body):
            delivery = replace(delivery, payload=without_control_characters(delivery.payload),
                               refund_details=without_control_characters(delivery.refund_details))
        derivation = HANDLERS[delivery.topic](delivery.store.context, state.get(delivery.key), delivery)
        payloads = encode_events(derivation.events, limits)
        snapshot = None if derivation.snapshot is None else orjson.dumps(derivation.snapshot).decode()
    except Refused as refused:
        return refused
    except _PAYLOAD_ERRORS as exc:
        # The caller may see the message (it is their data); the log only where it failed.
        return InvalidPayload(f"{type(exc).__name__}: {exc}"[:300], detail=_where(exc))
    except Exception as exc:  # a bug of ours, met on this delivery: it alone gets a 500
        failed = DeliveryFailed("the delivery could not be handled", detail=_where(exc))
        failed.__cause__ = exc
        return failed
    if snapshot is not None:  # the next delivery of this resource in the batch diffs against it
        state[delivery.key], changed[delivery.key] = derivation.snapshot, snapshot
    return _Prepared(derivation, payloads)


def _where(exc: BaseException) -> str:
    """An exception's class and the function it came from, e.g. "ValueError in to_decimal": a
    reason to log that holds nothing of the payload."""
    frames = traceback.extract_tb(exc.__traceback__)
    return f"{type(exc).__name__} in {frames[-1].name}" if frames else type(exc).__name__


def _rows(batch: list[Delivery], outcomes: list[str | None], prepared: list) -> list[DeliveryRow]:
    """The delivery rows to record (a refused delivery has none: as if it never came)."""
    rows = []
    for delivery, outcome, p in zip(batch, outcomes, prepared):
        if isinstance(p, Refused):
            continue
        rows.append(DeliveryRow(store_id=delivery.store.store_id, topic=delivery.topic, resource=delivery.resource,
                                resource_id=delivery.resource_id, delivery_id=delivery.delivery_id,
                                webhook_id=delivery.webhook_id, origin=delivery.origin, body=delivery.body,
                                outcome=p.derivation.outcome if p is not None else outcome,
                                events=p.derivation.events if p is not None else [],
                                payloads=p.payloads if p is not None else [],
                                held=p is not None and p.derivation.held,
                                erase=p.derivation.erase if p is not None else None))
    return rows


def _results(rows: list[DeliveryRow], prepared: list, inserted: list[int]) -> list[Result | Refused]:
    it = iter(zip(rows, inserted))
    out: list[Result | Refused] = []
    for p in prepared:
        if isinstance(p, Refused):
            out.append(p)
        else:
            row, n = next(it)
            out.append(Result(outcome=row.outcome, events=n))
    return out


def _unstorable(delivery: Delivery, metrics: IngestMetrics) -> InvalidPayload:
    refused = InvalidPayload(UNSTORABLE, code="unstorable_value")
    _refused(delivery, refused, metrics)
    return refused


def _refused(delivery: Delivery, refused: Refused, metrics: IngestMetrics) -> None:
    metrics.deliveries.labels(delivery.topic if delivery.topic in HANDLERS else "unknown", refused.code).inc()
    # The delivery's id, topic and store, and why: never the body's content (personal data).
    fields = dict(reason=refused.code, detail=refused.detail, status=refused.status, topic=delivery.topic,
                  store_id=delivery.store.store_id, delivery_id=delivery.delivery_id, origin=delivery.origin)
    if isinstance(refused, DeliveryFailed):
        log.error("delivery_refused", **fields, exc_info=refused.__cause__)
    else:
        log.warning("delivery_refused", **fields)


def _count(batch: list[Delivery], results: list, prepared: list, metrics: IngestMetrics) -> None:
    """Metrics and log lines once the batch is committed."""
    by_type: Counter[str] = Counter()
    for delivery, result, p in zip(batch, results, prepared):
        if isinstance(result, Refused):
            _refused(delivery, result, metrics)
            continue
        metrics.deliveries.labels(delivery.topic if delivery.topic in HANDLERS else "unknown", result.outcome).inc()
        if isinstance(p, _Prepared):
            by_type.update(e.envelope.type for e in p.derivation.events)
        if result.outcome in NOT_APPLIED:
            # The delivery id and topic only: the body may hold personal data.
            log.warning("delivery_not_applied", outcome=result.outcome, topic=delivery.topic,
                        store_id=delivery.store.store_id, delivery_id=delivery.delivery_id)
    for event_type, n in by_type.items():
        metrics.events_produced.labels(event_type).inc(n)
