"""PgJournal: what ingest reads and writes for a batch of deliveries, in one transaction, in two
statements whether the batch holds one delivery or two hundred (a round trip to PostgreSQL costs
more than anything ingest computes, bench/README.md):

- `lock_and_read` locks every resource of the batch *and* reads its snapshot: an
  `INSERT … ON CONFLICT DO UPDATE … RETURNING` on the snapshots' primary key, rows in key order
  (two instances' batches lock in the same order, so they can't deadlock). It waits for any
  transaction holding a row (or inserting it: the first sight of a resource), then returns the
  latest committed state — the serialisation of a lock taken before a read, in one statement. A
  resource seen for the first time gets a placeholder row (state JSON `null`) only this
  transaction sees; `write` turns it into the real snapshot or deletes it, so no placeholder is
  ever committed.
- `write` saves the new snapshots, drops unused placeholders, inserts the outbox rows (a repeated
  event id is ignored) and the delivery rows with the number of events each really added.
"""
from __future__ import annotations

from dataclasses import dataclass

import asyncpg
import orjson

from shared import outbox
from shared.events.envelope import Outgoing

Key = tuple[str, str, str]  # (store_id, resource, resource_id)

_LOCK_AND_READ = (
    "INSERT INTO snapshots AS s (store_id, resource, resource_id, state)"
    " SELECT a, b, c, 'null'::jsonb FROM unnest($1::text[], $2::text[], $3::text[]) AS k(a, b, c)"
    " ORDER BY a, b, c"
    " ON CONFLICT (store_id, resource, resource_id) DO UPDATE SET state = s.state"
    " RETURNING s.store_id, s.resource, s.resource_id, s.state::text")
_WRITE = (
    "WITH saved AS (INSERT INTO snapshots (store_id, resource, resource_id, state)"
    "  SELECT a, b, c, d::jsonb FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(a, b, c, d)"
    "  ON CONFLICT (store_id, resource, resource_id) DO UPDATE SET state = EXCLUDED.state, updated_at = now()),"
    " dropped AS (DELETE FROM snapshots s USING unnest($5::text[], $6::text[], $7::text[]) AS k(a, b, c)"
    "  WHERE s.store_id = k.a AND s.resource = k.b AND s.resource_id = k.c AND s.state = 'null'::jsonb),"
    " ob AS (INSERT INTO outbox (event_id, event_type, topic, key, source, subject, payload)"
    "  SELECT * FROM unnest($8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],"
    "  $14::bytea[]) ON CONFLICT (event_id) DO NOTHING RETURNING event_id),"
    " counts AS (SELECT e.row_no, count(*) AS n FROM ob"
    "  JOIN unnest($8::text[], $15::int[]) AS e(event_id, row_no) USING (event_id) GROUP BY e.row_no),"
    " recorded AS (INSERT INTO deliveries (store_id, topic, resource, resource_id, delivery_id, webhook_id,"
    "  origin, body, outcome, events)"
    "  SELECT d.a, d.b, d.c, d.e, d.f, d.g, d.h, d.i, d.j, coalesce(c.n, 0)"
    "  FROM unnest($16::text[], $17::text[], $18::text[], $19::text[], $20::text[], $21::text[], $22::text[],"
    "  $23::bytea[], $24::text[]) WITH ORDINALITY AS d(a, b, c, e, f, g, h, i, j, row_no)"
    "  LEFT JOIN counts c USING (row_no) ORDER BY d.row_no)"
    " SELECT row_no, n FROM counts")


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

    async def lock_and_read(self, keys: set[Key]) -> dict[Key, dict]:
        """Lock the resources; their last snapshots (a resource never seen has none)."""
        if not keys:
            return {}
        rows = await self.conn.fetch(_LOCK_AND_READ, *_columns(list(keys), 3))
        return {(r[0], r[1], r[2]): orjson.loads(r[3]) for r in rows if r[3] != "null"}

    async def write(self, snapshots: dict[Key, dict], untouched: set[Key], rows: list[DeliveryRow]) -> list[int]:
        """Save everything; per delivery row, the number of its events the outbox didn't have yet."""
        snaps = [(*k, orjson.dumps(v).decode()) for k, v in snapshots.items()]
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
        counts = await self.conn.fetch(_WRITE, *_columns(snaps, 4), *_columns(list(untouched), 3), *ev_cols,
                                       owners, *_columns(deliveries, 9))
        by_row = {r[0]: r[1] for r in counts}
        return [by_row.get(i, 0) for i in range(1, len(rows) + 1)]
