"""PgJournal: everything ingest writes for one delivery, inside one transaction — the delivery
row (raw bytes), the resource's snapshot, and the outbox rows of the events it produced.

One journal lives for one transaction and keeps its round trips to PostgreSQL few, because a
round trip costs more than anything ingest computes (bench/README.md):

- `lock_resource` locks the resource's snapshot row *and* reads it in one statement: an
  `INSERT … ON CONFLICT DO UPDATE … RETURNING` on the snapshot's primary key. It waits for any
  transaction holding that row (or inserting it: the first sight of a resource), then returns the
  latest committed state — the same serialisation as a lock taken before a read, which two
  statements would otherwise need. A resource seen for the first time gets a placeholder row
  (state JSON `null`) that only this transaction can see; it becomes the real snapshot, or is
  deleted again before `record_delivery` returns, so no placeholder is ever committed.
- `snapshot` answers from what `lock_resource` read (a query only without the lock).
- `save_snapshot` is deferred: it is written by the next statement that goes anyway —
  `publish` (with the outbox rows) or `record_delivery` (with the delivery row).
Callers use it as before: lock_resource → snapshot → [save_snapshot] → [publish] → record_delivery.
"""
from __future__ import annotations

import asyncpg
import orjson

from shared import outbox
from shared.events.envelope import Outgoing

_LOCK_AND_READ = (
    "INSERT INTO snapshots AS s (store_id, resource, resource_id, state) VALUES ($1, $2, $3, 'null'::jsonb)"
    " ON CONFLICT (store_id, resource, resource_id) DO UPDATE SET state = s.state RETURNING s.state")
_READ = "SELECT state FROM snapshots WHERE store_id = $1 AND resource = $2 AND resource_id = $3"


def _save(first: int) -> str:
    """Upsert one snapshot; its parameters are $first … $first+3."""
    a, b, c, d = (f"${first + i}" for i in range(4))
    return (f"INSERT INTO snapshots (store_id, resource, resource_id, state) VALUES ({a},{b},{c},{d}::jsonb)"
            " ON CONFLICT (store_id, resource, resource_id) DO UPDATE SET state = EXCLUDED.state,"
            " updated_at = now()")


def _drop_placeholder(first: int) -> str:
    a, b, c = (f"${first + i}" for i in range(3))
    return (f"DELETE FROM snapshots WHERE store_id = {a} AND resource = {b} AND resource_id = {c}"
            " AND state = 'null'::jsonb")


_DELIVERY = (
    "INSERT INTO deliveries (store_id, topic, resource, resource_id, delivery_id, webhook_id,"
    " origin, body, outcome, events) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) RETURNING id")
_SAVE = _save(1)
_DROP_PLACEHOLDER = _drop_placeholder(1)
# One statement each: data-modifying CTEs all run, whether or not the main query reads them.
_PUBLISH = f"WITH inserted AS ({outbox.INSERT}) SELECT count(*) FROM inserted"  # outbox: $1..$7
_PUBLISH_AND_SAVE = f"WITH side AS ({_save(8)}), inserted AS ({outbox.INSERT}) SELECT count(*) FROM inserted"
_DELIVERY_AND_SAVE = f"WITH side AS ({_save(11)}) {_DELIVERY}"
_DELIVERY_AND_DROP_PLACEHOLDER = f"WITH side AS ({_drop_placeholder(11)}) {_DELIVERY}"


class PgJournal:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self._read: dict[tuple[str, str, str], str | None] = {}  # what lock_resource saw
        self._placeholders: set[tuple[str, str, str]] = set()  # rows this transaction inserted
        self._pending: list[tuple[str, str, str, str]] = []  # snapshots not written yet

    async def lock_resource(self, store_id: str, resource: str, resource_id: str) -> None:
        """Serialise deliveries about one resource so two concurrent ones diff in turn."""
        key = (store_id, resource, resource_id)
        raw = await self.conn.fetchval(_LOCK_AND_READ, *key)
        if raw is None or raw == "null":
            self._placeholders.add(key)
            raw = None
        self._read[key] = raw

    async def snapshot(self, store_id: str, resource: str, resource_id: str) -> dict | None:
        key = (store_id, resource, resource_id)
        if key in self._read:
            raw = self._read[key]
        else:
            raw = await self.conn.fetchval(_READ, *key)
        return orjson.loads(raw) if raw else None

    async def save_snapshot(self, store_id: str, resource: str, resource_id: str, state: dict) -> None:
        self._pending.append((store_id, resource, resource_id, orjson.dumps(state).decode()))

    async def _flush_but_one(self) -> tuple[str, str, str, str] | None:
        """Write all pending snapshots but the last, which the caller's statement carries."""
        while len(self._pending) > 1:
            await self.conn.execute(_SAVE, *self._pending.pop(0))
        return self._pending.pop() if self._pending else None

    def _saved(self, snap: tuple[str, str, str, str] | None) -> None:
        if snap is not None:
            self._placeholders.discard(snap[:3])

    async def publish(self, events: list[Outgoing]) -> int:
        """Insert events into the outbox (a repeated event id is ignored); returns rows inserted."""
        if not events:
            return 0
        columns = outbox.columns(events)
        snap = await self._flush_but_one()
        if snap is None:
            return await self.conn.fetchval(_PUBLISH, *columns)
        inserted = await self.conn.fetchval(_PUBLISH_AND_SAVE, *columns, *snap)
        self._saved(snap)
        return inserted

    async def record_delivery(self, *, store_id: str, topic: str, resource: str, resource_id: str | None,
                              delivery_id: str | None, webhook_id: str | None, origin: str, body: bytes,
                              outcome: str, events: int) -> int:
        args = (store_id, topic, resource, resource_id, delivery_id, webhook_id, origin, body, outcome, events)
        snap = await self._flush_but_one()
        if snap is not None:
            row = await self.conn.fetchval(_DELIVERY_AND_SAVE, *args, *snap)
            self._saved(snap)
        else:
            row = None
        # A resource locked for the first time whose derivation stored nothing (a draft, …):
        # its placeholder row goes, so the transaction commits exactly what it did before.
        while self._placeholders:
            key = self._placeholders.pop()
            if row is None:
                row = await self.conn.fetchval(_DELIVERY_AND_DROP_PLACEHOLDER, *args, *key)
            else:
                await self.conn.execute(_DROP_PLACEHOLDER, *key)
        if row is None:
            row = await self.conn.fetchval(_DELIVERY, *args)
        return row
