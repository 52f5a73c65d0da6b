"""What every derivation shares: the store it runs for, its result, the outcomes, the payload
shapes that are not resources, and how one event is built (deterministic id, envelope, key)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from pydantic import BaseModel

from shared.events.envelope import Envelope, Outgoing, event_id

# Outcomes (the handler records them per delivery and counts them in metrics).
APPLIED = "applied"  # the snapshot moved forward (events may be empty: nothing we carry changed)
DUPLICATE = "duplicate"  # same state as the snapshot: nothing to do
STALE = "stale"  # older than the snapshot: ignored so state never moves backwards
PARKED = "parked"  # a draft (Block checkout): not an order yet, nothing stored
ERROR_BODY = "error_body"  # WordPress error object instead of a resource
IGNORED = "ignored"  # a topic this derivation does not handle


@dataclass(frozen=True)
class StoreContext:
    store_id: str
    timezone: str = "UTC"
    locale: str | None = None


@dataclass(frozen=True)
class Erasure:
    """A customer whose personal data ingest must remove from its own database, in the transaction
    that records their customer.erased: every key their events were keyed by (the account's, and
    the email keys of guest orders linked to it), whose orders' delivery bodies are dropped and whose
    events' payloads lose email and names (adapters/erasure.py)."""
    store_id: str
    customer_id: int
    keys: tuple[str, ...]


@dataclass(frozen=True)
class Derivation:
    events: list[Outgoing]  # in the order they must be published
    snapshot: dict | None  # the new snapshot to store (JSON-serializable), None = keep the old one
    outcome: str
    # The events wait in held_events instead of the outbox: a refund of the order waits for its
    # lines (GET /orders/<id>/refunds/<rid>), and every later event of the order behind it
    # (refund_details.py releases them, in order).
    held: bool = False
    erase: Erasure | None = None  # customer.erased: what the write must remove with it


def nothing(outcome: str) -> Derivation:
    return Derivation(events=[], snapshot=None, outcome=outcome)


def is_error_body(payload: object) -> bool:
    """WooCommerce delivers a WP error object ({"code", "message", "data": {"status"}}) when the
    webhook's owner can't read the resource or it is gone."""
    return (isinstance(payload, dict) and "code" in payload
            and isinstance(payload.get("data"), dict) and "status" in payload["data"])


def not_a_resource(payload: object, topic: str, topics: frozenset[str], resource: str) -> Derivation | None:
    """What every derivation answers before looking at the payload: a WP error body, a topic it
    doesn't handle, or (raised) a body that isn't an object. None: go on."""
    if is_error_body(payload):
        return nothing(ERROR_BODY)
    if topic not in topics:
        return nothing(IGNORED)
    if not isinstance(payload, dict):
        raise TypeError(f"{resource} payload is not an object")
    return None


def resource_id(payload: dict) -> int:
    """The resource id: an int, or a numeric string in `{"id": "727"}` bodies of *.deleted."""
    raw = payload.get("id")
    if isinstance(raw, bool) or not isinstance(raw, (int, str)) or not str(raw).strip().isdigit():
        raise ValueError(f"payload without a usable id: {raw!r}")
    value = int(str(raw).strip())
    if value <= 0:
        raise ValueError(f"payload without a usable id: {raw!r}")
    return value


def build_event(store: StoreContext, *, topic: str, key: str, resource: str, rid: int, moment: str | None,
                event_type: str, discriminator: object, subject: str, time: datetime,
                data: BaseModel | dict) -> Outgoing:
    """One event. Its id is `event_id(store, resource, id, moment, type, discriminator)`: the same
    fact derived twice — from a redelivery, a reconcile, a replay — gets the same id, so
    consumers' processed-event markers drop the repeat."""
    if time.tzinfo is None:
        raise ValueError("event time without a UTC offset")
    # Built without validation: every field is ours and typed here, and this runs for every event
    # of every webhook (the envelope's models are still what consumers validate against).
    envelope = Envelope.model_construct(
        id=event_id(store.store_id, resource, rid, moment, event_type, discriminator),
        source=f"/stores/{store.store_id}", type=event_type, subject=subject, time=time.astimezone(timezone.utc),
        version=1,
        # A dict is data already dumped from its model (one dump shared by several events).
        data=data if isinstance(data, dict) else data.model_dump(mode="json", by_alias=True))
    return Outgoing.model_construct(topic=topic, key=key, envelope=envelope)
