"""PgDeliveryBatch: what ingest reads and writes for a batch of deliveries — two statements, two
round trips, whether the batch holds one delivery or two hundred (on this kind of machine a round
trip costs more than anything ingest computes, README "Benchmarks"):

- `read` fetches the snapshots of the batch's resources with their revision, without locking.
- `write` is one atomic statement (autocommit: no BEGIN/COMMIT round trips) that saves the new
  snapshots, inserts the outbox rows (a repeated event id is ignored) — or, for a delivery whose
  events are held (a refund's lines awaited, refund_details.py), the held_events rows — and the
  delivery rows with the number of events each really added. A batch holding a customer.erased
  runs that statement and the erasure of the customer's personal data (adapters/erasure.py) in
  one transaction instead. Each snapshot is written only if its revision is still
  the one read (a resource never seen: only if it still doesn't exist); if any isn't, the
  statement raises SQLSTATE 40001 and nothing of it happens — `SnapshotConflict`: the caller reads
  and derives again. That only happens when another ingest instance (or a reconcile) changed the
  same resource in between; within one process, the group commit never runs two batches about the
  same resource at once.

The write is given text and bytes only — each snapshot's JSON, each event's envelope as the
pipeline serialized and checked it — so a delivery's content can't fail it here for anyone else.
Driver errors are translated here: a value PostgreSQL refuses (asyncpg.DataError, or one past a
limit such as an index entry's size) is `UnstorableValue`, a moved snapshot is `SnapshotConflict`
(both in domain/delivery.py).
"""
from __future__ import annotations

import asyncpg
import orjson

from services.ingest.adapters.erasure import erase_customer
from services.ingest.domain.delivery import DeliveryRow, Key, Snapshot, SnapshotConflict, UnstorableValue
from shared.db import outbox
from shared.logging import get_logger

log = get_logger(__name__)

_READ = ("SELECT s.store_id, s.resource, s.resource_id, s.rev, s.state::text FROM snapshots s"
         " JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(a, b, c)"
         " ON s.store_id = k.a AND s.resource = k.b AND s.resource_id = k.c")
# $1-$5: the snapshots; $5 is the revision each must still have (0: must not exist yet), written
# as $5 + 1. $6-$12: the outbox columns (shared/db/outbox.py), $13: the delivery row owning each
# event. $14-$22: the delivery rows. Held events (a refund's lines awaited, Derivation.held) only
# in the _WRITE_HELD variant: $23-$29 their columns, $30 their delivery rows, $31-$32 their
# order's store and id — the usual write stays the statement it was.
_COUNT_OB = "SELECT e.row_no FROM ob JOIN unnest($6::text[], $13::int[]) AS e(event_id, row_no) USING (event_id)"
_HOLD = (" hd AS (INSERT INTO held_events (event_id, event_type, topic, key, source, subject, payload, store_id,"
         "  order_id) SELECT h.* FROM unnest($23::text[], $24::text[], $25::text[], $26::text[], $27::text[],"
         "  $28::text[], $29::bytea[], $31::text[], $32::text[]) AS h(a, b, c, d, e, f, g, s, o)"
         "  WHERE NOT EXISTS (SELECT 1 FROM outbox x WHERE x.event_id = h.a)"  # published already: a repeat
         "  ON CONFLICT (event_id) DO NOTHING RETURNING event_id),")
_COUNT_HD = "SELECT e.row_no FROM hd JOIN unnest($23::text[], $30::int[]) AS e(event_id, row_no) USING (event_id)"


def _write_sql(held: bool) -> str:
    added = f"{_COUNT_OB} UNION ALL {_COUNT_HD}" if held else _COUNT_OB
    return (
        "WITH saved AS (INSERT INTO snapshots AS s (store_id, resource, resource_id, state, rev)"
        "  SELECT a, b, c, d::jsonb, r + 1"
        "  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[]) AS u(a, b, c, d, r)"
        "  ON CONFLICT (store_id, resource, resource_id) DO UPDATE"
        "  SET state = EXCLUDED.state, rev = EXCLUDED.rev, updated_at = now() WHERE s.rev = EXCLUDED.rev - 1"
        "  RETURNING 1),"
        f" ob AS ({outbox.insert_from_arrays(6)} RETURNING event_id),"
        + (_HOLD if held else "") +
        f" counts AS (SELECT row_no, count(*) AS n FROM ({added}) AS added GROUP BY row_no),"
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


_WRITE, _WRITE_HELD = _write_sql(False), _write_sql(True)
_NO_EVENTS = [[] for _ in outbox.COLUMNS]


def _columns(rows: list[tuple], width: int) -> list[list]:
    return [list(c) for c in zip(*rows)] if rows else [[] for _ in range(width)]


class PgDeliveryBatch:
    """The batch store on one connection (outside any transaction: each statement is atomic)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def read(self, keys: set[Key]) -> dict[Key, Snapshot]:
        """The resources' last snapshots (a resource never seen is absent)."""
        if not keys:
            return {}
        try:
            rows = await self.conn.fetch(_READ, *_columns(list(keys), 3))
        except asyncpg.DataError as exc:
            raise UnstorableValue(str(exc)) from exc
        return {(r[0], r[1], r[2]): Snapshot(rev=r[3], state=orjson.loads(r[4])) for r in rows}

    async def write(self, snapshots: dict[Key, tuple[int, str]], rows: list[DeliveryRow]) -> list[int]:
        """Save everything or nothing; per delivery row, the number of its events the outbox didn't
        have yet. `snapshots` maps a key to (revision read, new state as JSON). Raises
        SnapshotConflict, UnstorableValue."""
        snaps = [(*k, state, rev) for k, (rev, state) in snapshots.items()]
        events, payloads, owners, seen = [], [], [], set()
        held: list[tuple] = []  # (event, payload, row_no, store_id, order_id)
        for row_no, row in enumerate(rows, start=1):
            for i, e in enumerate(row.events):
                if e.envelope.id not in seen:  # the same fact twice in a batch: the first delivery has it
                    seen.add(e.envelope.id)
                    payload = row.payloads[i] if row.payloads else e.envelope.to_bytes()
                    if row.held:
                        held.append((e, payload, row_no, row.store_id, row.resource_id))
                        continue
                    events.append(e)
                    payloads.append(payload)
                    owners.append(row_no)
        deliveries = [(r.store_id, r.topic, r.resource, r.resource_id, r.delivery_id, r.webhook_id, r.origin,
                       r.body, r.outcome) for r in rows]
        ev_cols = outbox.columns(events, payloads) if events else _NO_EVENTS
        statement, extra = _WRITE, []
        if held:
            h_events, h_payloads, h_owners, h_stores, h_orders = map(list, zip(*held))
            statement, extra = _WRITE_HELD, [*outbox.columns(h_events, h_payloads), h_owners, h_stores, h_orders]
        args = (statement, *_columns(snaps, 5), *ev_cols, owners, *_columns(deliveries, 9), *extra)
        erasures = [r.erase for r in rows if r.erase is not None]
        try:
            if erasures:  # rare: the write and the erasure commit together or not at all
                async with self.conn.transaction():
                    _, row_nos, counts = await self.conn.fetchrow(*args)
                    for erasure in erasures:
                        erased = await erase_customer(self.conn, erasure)
                        log.info("customer_data_erased", store_id=erasure.store_id, customer_id=erasure.customer_id,
                                 **erased)
            else:
                _, row_nos, counts = await self.conn.fetchrow(*args)
        except asyncpg.SerializationError as exc:
            raise SnapshotConflict(str(exc)) from exc
        except (asyncpg.DataError, asyncpg.ProgramLimitExceededError) as exc:  # the same every time
            raise UnstorableValue(str(exc)) from exc
        by_row = dict(zip(row_nos, counts))
        return [by_row.get(i, 0) for i in range(1, len(rows) + 1)]
