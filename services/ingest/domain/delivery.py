"""What ingest is given and what becomes of it: a `Delivery` (a signed webhook, or an item a
reconcile pulled from the REST API), its `Result`, `InvalidPayload` for one that is refused, and
the records a batch of deliveries is stored as (`Snapshot` read, `DeliveryRow` written).

`SnapshotConflict` and `UnstorableValue` are the two ways a batch store (adapters/delivery_batch.py,
or its in-memory twin) may answer a write instead of committing it; the pipeline decides what
they mean (derive again; refuse the delivery that holds the value).
"""
from __future__ import annotations

from dataclasses import dataclass

from services.ingest.domain.stores import Store
from shared.events.envelope import Outgoing

Key = tuple[str, str, str]  # (store_id, resource, resource_id): one snapshot


class InvalidPayload(Exception):
    """A signed delivery whose body is not a usable resource; nothing of it is stored."""


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
