"""In-memory twins of ingest's adapters, with the same async methods and the same guarantees, for
unit tests of the delivery pipeline and of reconciliation:

- MemoryDeliveryBatch ~ PgDeliveryBatch: snapshots with revisions (a write whose revisions moved
  raises SnapshotConflict and stores nothing), the outbox (a repeated event id is ignored, the
  first delivery of a batch owns a fact) or `held` for a held delivery's events, the delivery
  rows; a NUL character PostgreSQL would refuse raises UnstorableValue and stores nothing. `after_next_read` lets a test run "another
  instance" between a batch's read and its write; `gate` holds writes until it is set.
- MemoryLaneConnections ~ PgLaneConnections: hands out that one batch store.
- MemoryStores ~ PgStores (get, all, by_source, register, rotate_secret; secrets in memory, not sealed).
- MemoryReconcileState ~ PgReconcileState: cursors, webhook health, the schedule lock, and
  `deliveries()` lending the MemoryDeliveryBatch.

    batch = MemoryDeliveryBatch()
    results = await ingest_batch(batch, [delivery], ingest_metrics())
    assert batch.outbox.types == ["order.placed", "order.paid"]
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

import orjson

from shared.testing.outbox import FakeOutbox

if TYPE_CHECKING:  # shared must not import services at import time
    from services.ingest.domain.delivery import DeliveryRow, Key, Snapshot
    from services.ingest.domain.stores import Store


def _copy(state: dict) -> dict:
    return orjson.loads(orjson.dumps(state))  # what a jsonb round trip gives: a fresh dict


def _refused(value: object) -> bool:
    """PostgreSQL refuses NUL in text and in jsonb strings (asyncpg.DataError)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_refused(k) or _refused(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_refused(v) for v in value)
    return False


class MemoryDeliveryBatch:
    def __init__(self) -> None:
        self.snapshots: dict[Key, tuple[int, dict]] = {}  # key → (revision, state)
        self.outbox = FakeOutbox()
        self.rows: list[DeliveryRow] = []  # every delivery row written, with `events` = what it added
        self.held: list[tuple[str, str, object]] = []  # (store, order id, Outgoing): held_events
        self.reads: list[set[Key]] = []  # the keys each read asked for
        self.writes: list[int] = []  # delivery rows per committed write
        self.after_next_read: Callable[[], Awaitable[None]] | None = None
        self.gate: asyncio.Event | None = None

    async def read(self, keys: set[Key]) -> dict[Key, Snapshot]:
        from services.ingest.domain.delivery import Snapshot

        self.reads.append(set(keys))
        found = {k: Snapshot(rev=self.snapshots[k][0], state=_copy(self.snapshots[k][1]))
                 for k in keys if k in self.snapshots}
        if self.after_next_read is not None:
            race, self.after_next_read = self.after_next_read, None
            await race()
        return found

    async def write(self, snapshots: dict[Key, tuple[int, str]], rows: list[DeliveryRow]) -> list[int]:
        """`snapshots`: key → (revision read, new state as JSON), as PgDeliveryBatch takes them."""
        from services.ingest.domain.delivery import SnapshotConflict, UnstorableValue

        if self.gate is not None:
            await self.gate.wait()
        states = {key: orjson.loads(text) for key, (_, text) in snapshots.items()}
        if any(_refused(state) for state in states.values()) or any(
                _refused([r.store_id, r.topic, r.resource, r.resource_id, r.delivery_id, r.webhook_id, r.origin,
                          r.outcome]) for r in rows):
            raise UnstorableValue("invalid byte sequence for encoding \"UTF8\": 0x00")
        for key, (rev, _) in snapshots.items():
            # As PostgreSQL's upsert: a snapshot that exists must still have the revision read (0:
            # read as "never seen"); one that doesn't is inserted whatever was read.
            if key in self.snapshots and self.snapshots[key][0] != rev:
                raise SnapshotConflict("a snapshot changed since it was read")
        for key, (rev, _) in snapshots.items():
            self.snapshots[key] = (rev + 1, states[key])
        known = {e.envelope.id for e in self.outbox.events} | {e.envelope.id for _, _, e in self.held}
        added = []
        for row in rows:  # the same fact twice in a batch: the first delivery has it
            fresh = []
            for e in row.events:
                if e.envelope.id not in known:
                    known.add(e.envelope.id)
                    fresh.append(e)
            if row.held:  # held_events, not the outbox (a refund's lines awaited)
                self.held += [(row.store_id, row.resource_id, e) for e in fresh]
            else:
                await self.outbox.write(fresh)
            self.rows.append(replace(row, events=fresh))
            added.append(len(fresh))
        self.writes.append(len(rows))
        return added

    def state(self, key: Key) -> dict | None:
        return self.snapshots[key][1] if key in self.snapshots else None


class MemoryLaneConnections:
    def __init__(self, batch: MemoryDeliveryBatch | None = None) -> None:
        self.batch = batch or MemoryDeliveryBatch()
        self.failures: list[Exception] = []
        self.closed = False

    async def take(self) -> MemoryDeliveryBatch:
        return self.batch

    def keep(self, batch: MemoryDeliveryBatch) -> None:
        pass

    async def failed(self, batch: MemoryDeliveryBatch, exc: Exception) -> None:
        self.failures.append(exc)

    def abandon(self, batch: MemoryDeliveryBatch) -> None:
        pass

    async def close(self) -> None:
        self.closed = True


class MemoryStores:
    """PgStores' semantics without its storage: registering an existing store id is refused
    (StoreExists) and changes nothing, update changes everything but secrets, a rotation keeps
    exactly one previous secret (none at 0)."""

    def __init__(self, stores: list[Store] | None = None) -> None:
        self._by_id: dict[str, Store] = {s.store_id: s for s in stores or []}

    async def by_source(self, source_url: str) -> Store | None:
        from services.ingest.domain.stores import source_key

        key = source_key(source_url)
        return next((s for s in self._by_id.values() if s.source_url == key), None) if key else None

    async def get(self, store_id: str) -> Store | None:
        return self._by_id.get(store_id)

    async def all(self) -> list[Store]:
        return [self._by_id[k] for k in sorted(self._by_id)]

    async def register(self, store_id: str, source_url: str, webhook_secret: str, rest_url: str | None,
                       consumer_key: str | None, consumer_secret: str | None, timezone_name: str,
                       locale: str | None, *, rest_ca_bundle: str | None = None,
                       rest_cert_sha256: str | None = None) -> Store:
        from services.ingest.domain.stores import Store, StoreExists, normalize_source

        source = normalize_source(source_url)
        if store_id in self._by_id:
            raise StoreExists(store_id)
        self._taken(source, store_id)
        self._by_id[store_id] = Store(
            store_id=store_id, source_url=source, webhook_secret=webhook_secret, previous_secret=None,
            previous_secret_until=None, rest_url=rest_url, consumer_key=consumer_key,
            consumer_secret=consumer_secret, timezone=timezone_name, locale=locale, rest_ca_bundle=rest_ca_bundle,
            rest_cert_sha256=rest_cert_sha256)
        return self._by_id[store_id]

    def _taken(self, source: str, store_id: str) -> None:
        if any(s.source_url == source and s.store_id != store_id for s in self._by_id.values()):
            raise ValueError(f"source_url {source} is another store's (stores_source_url_key)")

    async def count_weak_secrets(self) -> int:
        from services.ingest.domain.stores import secret_weakness

        return sum(secret_weakness(s.webhook_secret) is not None for s in self._by_id.values())

    async def update(self, store_id: str, changes: dict[str, str | None]) -> Store | None:
        from services.ingest.domain.stores import changed

        old = self._by_id.get(store_id)
        if old is None:
            return None
        new = changed(old, changes)
        self._taken(new.source_url, store_id)
        self._by_id[store_id] = new
        return new

    async def rotate_secret(self, store_id: str, new_secret: str, overlap_s: int) -> Store | None:
        old = self._by_id.get(store_id)
        if old is None:
            return None
        keep = overlap_s > 0
        self._by_id[store_id] = replace(
            old, webhook_secret=new_secret, previous_secret=old.webhook_secret if keep else None,
            previous_secret_until=datetime.now(timezone.utc) + timedelta(seconds=overlap_s) if keep else None)
        return self._by_id[store_id]


class MemoryReconcileState:
    def __init__(self, batch: MemoryDeliveryBatch | None = None) -> None:
        self.batch = batch or MemoryDeliveryBatch()
        self.cursors: dict[tuple[str, str], str] = {}
        self.webhooks: dict[tuple[str, int], tuple[str, str]] = {}  # (store, id) → (topic, status)
        self.lock_held_elsewhere = False

    async def snapshot(self, store_id: str, resource: str, resource_id: str) -> dict | None:
        state = self.batch.state((store_id, resource, resource_id))
        return _copy(state) if state is not None else None

    async def known_orders(self, store_id: str) -> set[str]:
        return {k[2] for k, (_, state) in self.batch.snapshots.items()
                if k[0] == store_id and k[1] == "order" and not state.get("gone")}

    async def cursor(self, store_id: str, resource: str) -> str | None:
        return self.cursors.get((store_id, resource))

    async def save_cursor(self, store_id: str, resource: str, cursor_gmt: str) -> None:
        self.cursors[(store_id, resource)] = cursor_gmt

    async def record_webhooks(self, store_id: str, hooks: list[tuple[int, str, str]]) -> None:
        self.webhooks = {k: v for k, v in self.webhooks.items() if k[0] != store_id}
        for webhook_id, topic, status in hooks:
            self.webhooks[(store_id, webhook_id)] = (topic, status)

    @asynccontextmanager
    async def deliveries(self) -> AsyncIterator[MemoryDeliveryBatch]:
        yield self.batch

    @asynccontextmanager
    async def schedule_lock(self) -> AsyncIterator[bool]:
        yield not self.lock_held_elsewhere
