"""PgHeldEvents: the events of orders held back from the outbox while a refund's lines are fetched
(held_events, migrations/008; written by adapters/delivery_batch.py), and their release into the
outbox in the order they were derived (refund_details.py decides when and with what)."""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from shared.db import outbox


PASS_LOCK = 727_004  # session advisory lock: one refund-details pass at a time across processes


@dataclass(frozen=True)
class HeldOrder:
    store_id: str
    order_id: str
    last_id: int  # the newest held row seen: a release moves rows up to it, not ones held since
    since: datetime  # when the oldest of them was held
    refunds: dict[str, bytes]  # event id → envelope, of the held order.refunded events


_WAITING = (
    "SELECT store_id, order_id, max(id) AS last_id, min(held_at) AS since,"
    " coalesce(array_agg(event_id ORDER BY id) FILTER (WHERE event_type = 'order.refunded'), '{}') AS ids,"
    " coalesce(array_agg(payload ORDER BY id) FILTER (WHERE event_type = 'order.refunded'), '{}') AS payloads"
    " FROM held_events GROUP BY store_id, order_id ORDER BY min(id) LIMIT $1")
_TAKE = ("DELETE FROM held_events WHERE store_id = $1 AND order_id = $2 AND id <= $3"
         " RETURNING id, event_id, event_type, topic, key, source, subject, payload")


class PgHeldEvents:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[bool]:
        """Whether this process may make a pass now (False: another one is making it), so a store
        isn't asked for the same refund by every worker process at once."""
        async with self.pool.acquire() as conn:
            mine = await conn.fetchval("SELECT pg_try_advisory_lock($1)", PASS_LOCK)
            try:
                yield mine
            finally:
                if mine:
                    await conn.execute("SELECT pg_advisory_unlock($1)", PASS_LOCK)

    async def waiting(self, limit: int = 500) -> list[HeldOrder]:
        """Orders with held events, the longest held first."""
        rows = await self.pool.fetch(_WAITING, limit)
        return [HeldOrder(store_id=r["store_id"], order_id=r["order_id"], last_id=r["last_id"], since=r["since"],
                          refunds=dict(zip(r["ids"], r["payloads"]))) for r in rows]

    async def release(self, order: HeldOrder, payloads: dict[str, bytes]) -> int:
        """Move the order's held rows (up to `order.last_id`) to the outbox in their order, with
        `payloads` replacing the envelopes of those event ids; the snapshot's "held" mark goes
        once none is left. Returns the rows moved (0: another instance released them first).

        The snapshot row is locked first: a batch deriving this order meanwhile either committed
        its held rows before (they are here, or stay for the next round) or finds the revision
        moved and derives again, seeing the order released."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT 1 FROM snapshots WHERE store_id = $1 AND resource = 'order'"
                               " AND resource_id = $2 FOR UPDATE", order.store_id, order.order_id)
            rows = sorted(await conn.fetch(_TAKE, order.store_id, order.order_id, order.last_id),
                          key=lambda r: r["id"])
            if rows:
                columns = [[r[name] for r in rows] for name, _ in outbox.COLUMNS]
                columns[-1] = [payloads.get(r["event_id"], r["payload"]) for r in rows]
                await conn.execute(outbox.insert_from_arrays(1), *columns)
            if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM held_events WHERE store_id = $1"
                                       " AND order_id = $2)", order.store_id, order.order_id):
                await conn.execute("UPDATE snapshots SET state = state - 'held', rev = rev + 1, updated_at = now()"
                                   " WHERE store_id = $1 AND resource = 'order' AND resource_id = $2"
                                   " AND state ? 'held'", order.store_id, order.order_id)
        return len(rows)
