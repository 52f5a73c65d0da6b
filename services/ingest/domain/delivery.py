"""What ingest is given and what becomes of it: a `Delivery` (a signed webhook, or an item a
reconcile pulled from the REST API), its `Result` or its `Refused` (why nothing of it was stored),
and the records a batch of deliveries is stored as (`Snapshot` read, `DeliveryRow` written).

Refusals carry what the webhook answers — an HTTP status and a stable error code — and a message
for the caller. `InvalidPayload` (400) and its kinds `ValueOutOfRange` (400) and `TooLarge` (413)
are the delivery's own data; `DeliveryFailed` (500) is a fault of ours met while preparing that one
delivery. Either way it is that delivery's answer alone, never its batch-mates'.

`SnapshotConflict` and `UnstorableValue` are the two ways a batch store (adapters/delivery_batch.py,
or its in-memory twin) may answer a write instead of committing it; the pipeline decides what
they mean (derive again; refuse the delivery that holds the value).
"""
from __future__ import annotations

from dataclasses import dataclass

from services.ingest.domain.derivation import Erasure
from services.ingest.domain.stores import Store
from shared.events.envelope import Outgoing

Key = tuple[str, str, str]  # (store_id, resource, resource_id): one snapshot
MAX_ID_DIGITS = 20


class Refused(Exception):
    """A delivery that is not stored, and the answer it gets. `detail` is what the log says of it:
    the message unless that could hold the payload's content (personal data)."""
    status = 500
    code = "internal_error"

    def __init__(self, message: str, *, code: str | None = None, detail: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.detail = detail or message


class InvalidPayload(Refused):
    """A signed delivery whose body is not a usable resource; nothing of it is stored."""
    status = 400
    code = "invalid_payload"


class ValueOutOfRange(InvalidPayload, ValueError):
    """A value no consumer could store (domain/bounds.py): an integer beyond 64 bits, an amount or a
    date outside the documented ranges. A ValueError too, for callers that parse dates and amounts."""
    code = "value_out_of_range"


class TooLarge(InvalidPayload):
    """A delivery whose events Kafka could not take, or more of them than one delivery may derive
    (EventLimits): `code` says which limit."""
    status = 413
    code = "event_too_large"


class DeliveryFailed(Refused):
    """An unexpected error while preparing one delivery (a bug of ours): that delivery alone gets a
    500; the log carries the traceback."""


class SnapshotConflict(Exception):
    """A snapshot changed between a batch's read and its write: nothing was written; derive again."""


class UnstorableValue(Exception):
    """Storage refused a value of the batch (e.g. a NUL character inside a string): nothing was
    written; the delivery holding it is refused."""


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
    # An order.deleted reconcile made up for an order the REST API no longer has (404): deleted for good.
    permanent: bool = False

    @property
    def resource(self) -> str:
        return self.topic.split(".", 1)[0]

    @property
    def resource_id(self) -> str | None:
        """The id as text, if it can be one: digits, at most 20 of them (WooCommerce ids are MySQL
        BIGINT UNSIGNED; a longer one is no id, and would not even fit PostgreSQL's index)."""
        rid = self.payload.get("id")
        if isinstance(rid, bool) or not isinstance(rid, (int, str)):
            return None
        text = str(rid)
        return text if len(text.strip()) <= MAX_ID_DIGITS and text.strip().isdigit() else None

    @property
    def key(self) -> Key:
        return (self.store.store_id, self.resource, self.resource_id or "")


@dataclass(frozen=True)
class Result:
    outcome: str
    events: int  # events this delivery added to the outbox (a repeated fact adds none)


@dataclass(frozen=True)
class Snapshot:
    rev: int  # 0: the resource has no snapshot yet
    state: dict | None


@dataclass(frozen=True)
class DeliveryRow:
    """A delivery as recorded (a refused one has none: as if it never came)."""
    store_id: str
    topic: str
    resource: str
    resource_id: str | None
    delivery_id: str | None
    webhook_id: str | None
    origin: str
    body: bytes
    outcome: str
    events: list[Outgoing]  # derived from it, in publishing order
    # The events' envelopes as serialized (and checked) by the pipeline, one per event; None:
    # the store serializes them itself.
    payloads: list[bytes] | None = None
    # The events go to held_events rather than the outbox (Derivation.held: a refund's lines awaited).
    held: bool = False
    # customer.erased: the customer's personal data to remove in the same transaction (Derivation.erase).
    erase: Erasure | None = None
