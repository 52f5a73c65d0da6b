"""PgJournal: what ingest reads and writes for a batch of deliveries — two statements, two round
trips, whether the batch holds one delivery or two hundred (on this kind of machine a round trip
costs more than anything ingest computes, README "Benchmarks"):

- `read` fetches the snapshots of the batch's resources with their revision, without locking.
- `write` is one atomic statement (autocommit: no BEGIN/COMMIT round trips) that saves the new
  snapshots, inserts the outbox rows (a repeated event id is ignored) and the delivery rows with
  the number of events each really added. Each snapshot is written only if its revision is still
  the one read (a resource never seen: only if it still doesn't exist); if any isn't, the
  statement raises SQLSTATE 40001 and nothing of it happens — `SnapshotConflict`: the caller reads
  and derives again. That only happens when another ingest instance (or a reconcile) changed the
  same resource in between; within one process, group_commit.py never runs two batches about the
  same resource at once.
"""
from __future__ import annotations

from dataclasses import dataclass

import asyncpg
import orjson

from shared.db import outbox
from shared.events.envelope import Outgoing

Key = tuple[str, str, str]  # (store_id, resource, resource_id)

_READ = ("SELECT s.store_id, s.resource, s.resource_id, s.rev, s.state::text FROM snapshots s"
         " JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(a, b, c)"
         " ON s.store_id = k.a AND s.resource = k.b AND s.resource_id = k.c")
# $5: the revision each snapshot must still have (0: must not exist yet); it is written as $5 + 1.
_WRITE = (
    "WITH saved AS (INSERT INTO snapshots AS s (store_id, resource, resource_id, state, rev)"
    "  SELECT a, b, c, d::jsonb, r + 1"
    "  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[]) AS u(a, b, c, d, r)"
    "  ON CONFLICT (store_id, resource, resource_id) DO UPDATE"
    "  SET state = EXCLUDED.state, rev = EXCLUDED.rev, updated_at = now() WHERE s.rev = EXCLUDED.rev - 1"
    "  RETURNING 1),"
    " ob AS (INSERT INTO outbox (event_id, event_type, topic, key, source, subject, payload)"
    "  SELECT * FROM unnest($6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[],"
    "  $12::bytea[]) ON CONFLICT (event_id) DO NOTHING RETURNING event_id),"
    " counts AS (SELECT e.row_no, count(*) AS n FROM ob"
    "  JOIN unnest($6::text[], $13::int[]) AS e(event_id, row_no) USING (event_id) GROUP BY e.row_no),"
    " recorded AS (INSERT INTO deliveries (store_id, topic, resource, resource_id, delivery_id, webhook_id,"
    "  origin, body, outcome, events)"
    "  SELECT d.a, d.b, d.c, d.e, d.f, d.g, d.h, d.i, d.j, coalesce(c.n, 0)"
    "  FROM unnest($14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::text[], $20::text[],"
    "  $21::bytea[], $22::text[]) WITH ORDINALITY AS d(a, b, c, e, f, g, h, i, j, row_no)"
    "  LEFT JOIN counts c USING (row_no) ORDER BY d.row_no)"
    # A one-row select: its guard is always evaluated, and raising rolls the whole statement back.
    " SELECT CASE WHEN (SELECT count(*) FROM saved) = cardinality($1::text[]) THEN 0"
    "  ELSE ingest_snapshot_conflict() END,"
    "  (SELECT coalesce(array_agg(row_no), '{}') FROM counts), (SELECT coalesce(array_agg(n), '{}') FROM counts)")


class SnapshotConflict(Exception):
    """A snapshot changed between `read` and `write`: nothing was written; derive again."""


@dataclass(frozen=True)
class Snapshot:
    rev: int  # 0: the resource has no snapshot yet
    state: dict | None


@dataclass(frozen=True)
class DeliveryRow:
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


def _columns(rows: list[tuple], width: int) -> list[list]:
    return [list(c) for c in zip(*rows)] if rows else [[] for _ in range(width)]


class PgJournal:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def read(self, keys: set[Key]) -> dict[Key, Snapshot]:
        """The resources' last snapshots (a resource never seen is absent)."""
        if not keys:
            return {}
        rows = await self.conn.fetch(_READ, *_columns(list(keys), 3))
        return {(r[0], r[1], r[2]): Snapshot(rev=r[3], state=orjson.loads(r[4])) for r in rows}

    async def write(self, snapshots: dict[Key, tuple[int, dict]], rows: list[DeliveryRow]) -> list[int]:
        """Save everything or nothing; per delivery row, the number of its events the outbox didn't
        have yet. `snapshots` maps a key to (revision read, new state). Raises SnapshotConflict."""
        snaps = [(*k, orjson.dumps(state).decode(), rev) for k, (rev, state) in snapshots.items()]
        events, owners, seen = [], [], set()
        for row_no, row in enumerate(rows, start=1):
            for e in row.events:
                if e.envelope.id not in seen:  # the same fact twice in a batch: the first delivery has it
                    seen.add(e.envelope.id)
                    events.append(e)
                    owners.append(row_no)
        deliveries = [(r.store_id, r.topic, r.resource, r.resource_id, r.delivery_id, r.webhook_id, r.origin,
                       r.body, r.outcome) for r in rows]
        ev_cols = outbox.columns(events) if events else [[] for _ in range(7)]
        try:
            _, row_nos, counts = await self.conn.fetchrow(_WRITE, *_columns(snaps, 5), *ev_cols, owners,
                                                          *_columns(deliveries, 9))
        except asyncpg.SerializationError as exc:
            raise SnapshotConflict(str(exc)) from exc
        by_row = dict(zip(row_nos, counts))
        return [by_row.get(i, 0) for i in range(1, len(rows) + 1)]
